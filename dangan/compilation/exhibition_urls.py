from django.urls import path

from . import exhibition_views as views

app_name = "exhibitions"
urlpatterns = [
    path("", views.exhibition_list, name="list"),
    path("<slug:slug>/", views.exhibition_page, name="page"),
    path("<slug:slug>/images/<int:pk>.jpg", views.exhibit_image, name="image"),
]
