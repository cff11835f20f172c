"""/people/: the staff pages about persons (the URL names keep their ``people:`` namespace)."""

from django.urls import path

from . import person_views as views

app_name = "people"
urlpatterns = [
    path("", views.person_search, name="person-search"),
    path("<int:pk>/", views.person_detail, name="person-detail"),
]
