from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include("dangan.api.urls")),
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("catalogue/", include("dangan.catalogue.urls")),
    path("people/", include("dangan.people.urls")),
    path("intake/", include("dangan.intake.urls")),
    path("content/", include("dangan.content.urls")),
    path("", RedirectView.as_view(pattern_name="catalogue:record-list", permanent=False)),
]
