from django.urls import path

from . import storage_views

app_name = "storage"

urlpatterns = [
    path("alerts/", storage_views.alert_list, name="alert-list"),
    path("alerts/<int:pk>/", storage_views.alert_detail, name="alert-detail"),
    path("backups/", storage_views.backup_list, name="backup-list"),
    path("backups/<int:pk>/", storage_views.backup_edit, name="backup-edit"),
]
