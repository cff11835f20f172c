from django.urls import path

from . import views

app_name = "stacks"
urlpatterns = [
    path("", views.room_list, name="room-list"),
    path("rooms/<int:pk>/", views.room_detail, name="room-detail"),
    path("rooms/<int:pk>/inventory/", views.inventory_start, name="inventory-start"),
    path("rooms/<int:pk>/inspection/", views.inspection_create, name="inspection-create"),
    path("rooms/<int:pk>/readings/", views.reading_create, name="reading-create"),
    path("rooms/<int:pk>/readings/import/", views.reading_import, name="reading-import"),
    path("boxes/new/", views.box_create, name="box-create"),
    path("boxes/<int:pk>/", views.box_detail, name="box-detail"),
    path("boxes/<int:pk>/labels.pdf", views.box_labels, name="box-labels"),
    path("inventories/<int:pk>/", views.inventory_detail, name="inventory-detail"),
    path("alerts/<int:pk>/close/", views.alert_close, name="alert-close"),
]
