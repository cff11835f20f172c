"""Each demo role, as a person in Chromium: every menu item and every workbench link opens (200),
the header of those who read records keeps a usable search box at 1280 px with the longest menu
and on a phone.

Screenshots of each role's workbench are kept in ``test-artifacts/roles/`` (not in git)."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from dangan.accounts.models import User

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "roles"
ROLES = [
    "archivist",
    "reading",
    "shanggang",
    "tx_clerk",
    "leader",
    "sysadmin",
    "secadmin",
    "auditor",
]
#: The three administrators read no records: no search box in their header (search answers 403).
ADMINISTRATORS = {"sysadmin", "secadmin", "auditor"}
MIN_SEARCH_PX = 160  # 16 characters of the placeholder's size


@pytest.fixture
def demo(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    call_command("demo", persons=10, seed=5, verbosity=0)
    return (tmp_path / "demo-password").read_text().strip()


def links(page, selector) -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map(a => a.getAttribute('href'))")


def opens(page, url) -> int:
    response = page.goto(url)
    return response.status if response else 0


def test_every_role_opens_every_menu_item_and_workbench_link(demo, login):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    widest = 0
    for username in ROLES:
        page = login(User.objects.get(username=username), password=demo)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto("/")
        page.screenshot(path=str(ARTIFACTS / f"{username}-workbench-1280.png"), full_page=True)
        readers = username not in ADMINISTRATORS
        assert page.locator("header .quick-search").count() == (1 if readers else 0), username
        if readers:
            search = page.locator("header .quick-search input").bounding_box()
            assert search["width"] >= MIN_SEARCH_PX, (username, search)
        menu = links(page, "nav.main a")
        widest = max(widest, len(menu))
        workbench = links(page, ".trays a")
        failures = [
            (url, status) for url in menu + workbench if (status := opens(page, url)) != 200
        ]
        assert failures == [], (username, failures)
        # On a phone the header fits the screen and the search box stays usable.
        page.set_viewport_size({"width": 390, "height": 844})
        page.goto("/")
        page.screenshot(path=str(ARTIFACTS / f"{username}-workbench-phone.png"))
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, username
        if readers:
            search = page.locator("header .quick-search input").bounding_box()
            assert search["width"] >= MIN_SEARCH_PX, (username, search)
        page.context.close()
    assert widest >= 13  # the archivist's menu, the longest, was among them
    assert Path(settings.DATA_DIR).exists()
