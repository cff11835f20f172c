"""The project's URLs plus the hand-over API lines the lead adds to ``dangan/api/urls.py``
(``*intake_api.urlpatterns``), so that these tests run before that edit is in."""

from django.urls import include, path

from dangan import urls as project
from dangan.api import urls as api_urls
from dangan.intake import api as intake_api

api_patterns = [*intake_api.urlpatterns, *api_urls.urlpatterns]
urlpatterns = [
    path("api/v1/", include((api_patterns, "api"))),
    *[p for p in project.urlpatterns if str(p.pattern) != "api/v1/"],
]
