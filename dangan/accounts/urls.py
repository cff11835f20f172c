"""Log-in (password, then the second factor, or setting it up) and log-out."""

from django.urls import path

from . import views

urlpatterns = [
    path("login/", views.login, name="login"),
    path("login/verify/", views.verify, name="login-verify"),
    path("login/enrol/", views.enrol, name="login-enrol"),
    path("logout/", views.logout, name="logout"),
]
