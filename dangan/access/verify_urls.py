"""The public certificate check, mounted at ``/verify/`` (the QR code on every copy points here)."""

from django.urls import path

from . import verify_views

app_name = "verify"
urlpatterns = [
    path("", verify_views.index, name="index"),
    path("<str:code>/", verify_views.certificate, name="certificate"),
]
