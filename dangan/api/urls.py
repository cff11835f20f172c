"""/api/v1/: the endpoints, the OpenAPI schema and Swagger UI (served from our own static files;
drf-spectacular's Redoc page is left out because its template loads web fonts from the internet)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from dangan.content import api as content_api

from . import views

router = DefaultRouter()
router.register("fonds", views.FondsViewSet, basename="fonds")
router.register("categories", views.CategoryViewSet, basename="category")
router.register("records", views.RecordViewSet, basename="record")
router.register("persons", views.PersonViewSet, basename="person")

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:api-schema"), name="api-docs"),
    *content_api.urlpatterns,
    path("", include(router.urls)),
]
