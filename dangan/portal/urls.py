"""The citizen portal, mounted at /portal/. Names carry ``portal-`` where a bare name would
clash with a staff page's (the permission matrix lists public pages by name)."""

from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.home, name="portal-home"),
    path("search/", views.search, name="portal-search"),
    path("login/", views.login, name="portal-login"),
    path("signup/", views.signup, name="portal-signup"),
    path("login/sso/", views.oidc_start, name="portal-oidc-start"),
    path("login/sso/callback/", views.oidc_callback, name="portal-oidc-callback"),
    path("logout/", views.logout, name="portal-logout"),
    path("my/", views.my_records, name="my-records"),
    path("my/records/<int:pk>/", views.my_record, name="my-record"),
    path("my/records/<int:pk>/request/", views.request_copy, name="request-copy"),
    path("my/requests/", views.my_requests, name="my-requests"),
    path("my/remote/", views.remote_requests, name="remote-requests"),
    path("counter/bind/", views.counter_bind, name="counter-bind"),
]
