"""A list's ``limit`` and ``offset`` of any size give a page, never a server error."""

import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/api/v1/categories/", "/api/v1/fonds/"])
def test_huge_limit_and_offset_give_a_page(client, archivist, path, scheme):
    client.force_login(archivist)
    huge = "1" + "0" * 30
    page = client.get(path, {"limit": huge})
    assert page.status_code == 200 and len(page.json()["results"]) <= 1000
    past = client.get(path, {"offset": huge})
    assert past.status_code == 200 and past.json()["results"] == []
