"""Browsers ask /favicon.ico of every site: they get the archive's icon, not a 404."""

import io

import pytest
from PIL import Image

pytestmark = pytest.mark.django_db


def test_favicon_ico_is_a_real_icon_for_anyone(client):
    answer = client.get("/favicon.ico")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "image/x-icon"
    icon = Image.open(io.BytesIO(b"".join(answer.streaming_content)))
    assert icon.format == "ICO" and (32, 32) in icon.info["sizes"]


def test_every_page_names_its_icon(client):
    page = client.get("/login/").content.decode()
    assert '<link rel="icon" href="/static/dangan/favicon.ico"' in page
