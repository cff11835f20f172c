"""The site's URLs with the sensor endpoint mounted in the API, as ``dangan/api/urls.py`` will
mount it (that file belongs to the API's own work)."""

from django.urls import URLPattern, include, path

from dangan import urls as site_urls
from dangan.api import urls as api_urls
from dangan.stacks import api as stacks_api

urlpatterns = [
    path("api/v1/", include(([*stacks_api.urlpatterns, *api_urls.urlpatterns], "api"))),
    *[
        p
        for p in site_urls.urlpatterns
        if not (not isinstance(p, URLPattern) and str(p.pattern) == "api/v1/")
    ],
]
