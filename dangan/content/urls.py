from django.urls import path

from . import views

app_name = "content"
urlpatterns = [
    path("records/<int:pk>/", views.record_files, name="record-files"),
    path("records/<int:pk>/upload/", views.upload, name="upload"),
    path("records/<int:pk>/order/", views.reorder, name="reorder"),
    path("pages/<int:pk>/download/", views.download, name="page-download"),
]
