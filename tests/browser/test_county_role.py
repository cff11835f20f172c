"""A role the county defined (issue #30), as its holder meets it in Chromium: the menu shows
exactly the role's pages, each opens, every other page is refused, and the API answers the same
person the same way."""

import pytest
from django.urls import reverse

from dangan.accounts import services
from dangan.accounts.models import Role, Secrecy
from dangan.menu import all_items

pytestmark = pytest.mark.browser


def test_a_county_role_sees_exactly_its_menu_items_and_pages_and_the_api_agrees(
    login, make_user, make_record, fonds
):
    sysadmin = make_user(role=Role.SYSTEM_ADMIN, grants=())
    services.define_role(
        actor=sysadmin,
        code="keeper",
        name="库房保管员",
        permissions=["records.read", "stacks.keep", "workbench"],
    )
    make_record(title="[库房可见档案]")
    keeper = make_user(role="keeper", grants=[{"max_secrecy": Secrecy.INTERNAL}])

    page = login(keeper)
    page.goto("/")
    menu = page.eval_on_selector_all("nav.main a", "els => els.map(a => a.getAttribute('href'))")
    assert menu == [
        reverse(name)
        for name in ("site:workbench", "catalogue:record-list", "people:person-search")
        + ("stacks:room-list",)
    ]
    for url in menu:
        assert page.goto(url).status == 200, url
    assert "[库房可见档案]" in (page.goto("/catalogue/") and page.content())
    for item in all_items():
        if item.url not in menu:
            status = page.goto(item.url).status
            # 403, or the administration's own way: back to the log-in page
            assert status == 403 or "/login/" in page.url, (item.url, status)

    # The API, with the same session: the records the pages list, and no filing.
    listed = page.request.get("/api/v1/records/")
    assert listed.status == 200 and listed.json()["count"] == 1
    token = page.context.cookies()
    csrf = next((c["value"] for c in token if c["name"] == "csrftoken"), "")
    refused = page.request.post(
        "/api/v1/records/",
        data={"fonds": fonds.code, "category": "SYTG", "title": "新档案", "year": 2001},
        headers={"X-CSRFToken": csrf, "Referer": page.url},
    )
    assert refused.status == 403
