"""The main menu shows what the user may open, by the same rule the pages use: every item it
shows answers 200, every page it hides answers 403."""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from dangan.accounts.models import User
from dangan.menu import all_items, items_for

pytestmark = pytest.mark.django_db

DEMO_USERS = [
    "archivist",
    "tx_clerk",
    "reading",
    "leader",
    "shanggang",
    "sysadmin",
    "secadmin",
    "auditor",
]


@pytest.fixture
def demo(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.DATA_DIR = tmp_path
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    call_command("demo", persons=10, seed=3, verbosity=0)


def menu_links(page: str) -> list[str]:
    nav = re.search(r'<nav class="main"[^>]*>(.*?)</nav>', page, re.S).group(1)
    return re.findall(r'href="([^"]+)"', nav)


def workbench_links(page: str) -> set[str]:
    trays = re.search(r'<div class="trays">(.*?)</main>', page, re.S).group(1)
    return {link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+)"', trays)}


@pytest.mark.parametrize("username", DEMO_USERS)
def test_every_menu_item_opens_and_every_hidden_one_is_refused(demo, client, username):
    user = User.objects.get(username=username)
    client.force_login(user)
    home = client.get("/")
    assert home.status_code == 200
    shown = menu_links(home.content.decode())
    assert shown == [item.url for item in items_for(user)]
    for url in shown:
        assert client.get(url).status_code == 200, url
    for url in workbench_links(home.content.decode()):
        assert client.get(url).status_code == 200, url
    for item in all_items():
        if item.url not in shown:
            assert client.get(item.url).status_code in (302, 403), item.url
    # The header's search box is shown exactly to those the search page lets in.
    searching = client.get("/search/", {"q": "退休"}).status_code
    assert searching == (200 if 'class="quick-search"' in home.content.decode() else 403)


def test_only_archivists_see_the_register_import(demo):
    import_url = reverse("intake:import-start")
    for username in DEMO_USERS:
        shown = [item.url for item in items_for(User.objects.get(username=username))]
        assert (import_url in shown) == (username == "archivist"), username


def test_the_language_menu_names_each_language_in_itself(demo, client):
    client.force_login(User.objects.get(username="archivist"))
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    options = re.findall(r"<option [^>]*>([^<]+)</option>", page)
    assert {"简体中文", "繁體中文", "English"} <= set(options), options


def test_the_town_clerks_category_tree_lists_only_the_categories_of_their_records(
    make_user, make_record, archivist, client, category
):
    from dangan.accounts.models import Role, Secrecy, Unit
    from dangan.catalogue.models import Category

    town = Unit.objects.create(code="T11", name="城关镇社保所", kind=Unit.Kind.TOWN)
    make_record(actor=archivist, unit=town)
    make_record(actor=archivist, category=Category.objects.get(code="TX"))
    clerk = make_user(
        role=Role.TOWN_CLERK, unit=town, grants=({"unit": town, "max_secrecy": Secrecy.INTERNAL},)
    )
    client.force_login(clerk)
    page = client.get(reverse("catalogue:record-list")).content.decode()
    assert set(re.findall(r'data-category="([^"]+)"', page)) == {category.code}


def test_each_role_finds_its_waiting_work_on_the_workbench(demo, client):
    trays = {}
    for username in DEMO_USERS:
        client.force_login(User.objects.get(username=username))
        page = client.get("/").content.decode()
        trays[username] = re.findall(r'data-tray="([^"]+)"', page)
    assert trays["archivist"] == ["handover", "requests", "loans", "alerts", "due", "ocr"]
    assert trays["leader"] == ["holdings", "requests", "destruction", "compilations", "loans"]
    assert trays["shanggang"] == ["handover"]
    assert trays["reading"] == ["loans"]
    assert trays["sysadmin"] == ["alerts"] and trays["secadmin"] == ["security", "locks"]


def test_the_security_administrator_finds_open_alerts_and_locks_on_the_workbench(make_user, client):
    import datetime

    from django.utils import timezone

    from dangan.accounts.models import Lockout, Role
    from dangan.alerts.models import SecurityAlert
    from dangan.alerts.services import raise_alert

    secadmin = make_user(role=Role.SECURITY_ADMIN, grants=())
    alert = raise_alert(kind=SecurityAlert.Kind.OUT_OF_SCOPE, summary="查看范围外的档案")
    now = timezone.now()
    Lockout.objects.create(
        scope=Lockout.Scope.ACCOUNT,
        key="wangli",
        failures=5,
        started_at=now,
        ends_at=now + datetime.timedelta(minutes=15),
    )
    Lockout.objects.create(  # ended: not waiting for anyone
        scope=Lockout.Scope.ACCOUNT,
        key="old",
        failures=5,
        started_at=now - datetime.timedelta(hours=2),
        ends_at=now - datetime.timedelta(hours=1),
    )
    client.force_login(secadmin)
    page = client.get("/").content.decode()
    security = page.split('data-tray="security"')[1].split("</section>")[0]
    locks = page.split('data-tray="locks"')[1].split("</section>")[0]
    assert "查看范围外的档案" in security and f"#alert-{alert.pk}" in security
    assert "wangli" in locks and "old" not in locks
    for url in workbench_links(page):
        assert client.get(url.split("#")[0]).status_code == 200, url


def test_the_leaders_workbench_shows_the_holdings_and_this_years_growth(
    make_user, make_record, client
):
    from django.utils import timezone

    from dangan.accounts.models import Role
    from dangan.catalogue.selectors import visible_records

    this_year = timezone.localdate().year
    make_record(year=this_year - 3)
    make_record(year=this_year)
    leader = make_user(role=Role.LEADER)
    client.force_login(leader)
    page = client.get("/").content.decode()
    holdings = page.split('data-tray="holdings"')[1].split("</section>")[0]
    figures = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", holdings))
    assert figures["馆藏档案"] == str(visible_records(leader).count()) == "2", figures
    assert figures["本年新增"] == "2", figures  # both entered this year, whatever their date
