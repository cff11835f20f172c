"""The OpenAPI description is valid and its documentation pages need nothing from the internet."""

import re

import pytest
from drf_spectacular.validation import validate_schema

pytestmark = pytest.mark.django_db


def test_the_schema_is_valid_openapi(client):
    answer = client.get("/api/v1/schema/", {"format": "json"})
    assert answer.status_code == 200
    schema = answer.json()
    validate_schema(schema)  # raises on an invalid OpenAPI 3 document
    assert {
        "/api/v1/records/",
        "/api/v1/records/{id}/",
        "/api/v1/persons/{id}/",
        "/api/v1/fonds/{code}/",
        "/api/v1/categories/{code}/",
    } <= set(schema["paths"])


def test_the_documentation_page_loads_nothing_from_elsewhere(client):
    html = client.get("/api/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower() and "https://" not in html
    script = re.search(r'src="(/static/drf_spectacular_sidecar/[^"]+\.js)"', html).group(1)
    assert client.get(script).status_code == 200
