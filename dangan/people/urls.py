from django.urls import path

from . import views

app_name = "people"
urlpatterns = [
    path("", views.person_search, name="person-search"),
    path("<int:pk>/", views.person_detail, name="person-detail"),
]
