from django.urls import path

from . import views

app_name = "catalogue"
urlpatterns = [
    path("", views.record_list, name="record-list"),
    path("export.xlsx", views.record_export, name="record-export"),
    path("new/", views.record_create, name="record-create"),
    path("<int:pk>/", views.record_detail, name="record-detail"),
    path("<int:pk>/edit/", views.record_edit, name="record-edit"),
    path("<int:pk>/volume/items/", views.volume_items, name="volume-items"),
    path("<int:pk>/volume/note/", views.volume_note, name="volume-note"),
    path("<int:pk>/volume.pdf", views.volume_pdf, name="volume-pdf"),
    path("<int:pk>/volume.xlsx", views.volume_xlsx, name="volume-xlsx"),
    path("<int:pk>/relations/", views.relation_add, name="relation-add"),
    path(
        "<int:pk>/relations/<int:relation_pk>/remove/",
        views.relation_remove,
        name="relation-remove",
    ),
]
