from django.urls import path

from . import views

app_name = "assist"
urlpatterns = [
    path("duplicates/", views.duplicate_list, name="duplicate-list"),
    path("duplicates/<int:pk>/accept/", views.duplicate_accept, name="duplicate-accept"),
    path("duplicates/<int:pk>/reject/", views.duplicate_reject, name="duplicate-reject"),
]
