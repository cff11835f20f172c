"""/api/v1/: the endpoints, the OpenAPI schema and Swagger UI (served from our own static files;
drf-spectacular's Redoc page is left out because its template loads web fonts from the internet)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from dangan.content import api as content_api
from dangan.intake import api as intake_api
from dangan.intake import filing_api
from dangan.stacks import api as stacks_api

from . import views

# No ".json" suffix routes: JSON is the one format, and a suffix route answered unknown formats
# outside the schema (found by schemathesis, tests/security/test_api_fuzzing.py).
router = DefaultRouter()
router.include_format_suffixes = False
router.register("fonds", views.FondsViewSet, basename="fonds")
router.register("categories", views.CategoryViewSet, basename="category")
router.register("records", views.RecordViewSet, basename="record")
router.register("persons", views.PersonViewSet, basename="person")

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:api-schema"), name="api-docs"),
    *content_api.urlpatterns,
    *intake_api.urlpatterns,
    *filing_api.urlpatterns,
    *stacks_api.urlpatterns,
    path("", include(router.urls)),
]
