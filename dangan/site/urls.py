from django.urls import path

from . import views

app_name = "site"
urlpatterns = [
    path("", views.home, name="workbench"),
    path("favicon.ico", views.favicon, name="favicon"),
]
