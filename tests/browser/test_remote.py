"""异地查档 in a real browser: a desk clerk of 东台县 asks 射阳县 for a person's files on the
Chinese form; 射阳县's archivist answers in the inbox; the desk prints the certificate."""

import pytest

from dangan.accounts.models import Role, Secrecy, Unit
from dangan.content.services import add_files
from tests.access.conftest import PERSON, scan_png

pytestmark = pytest.mark.browser
WIDE = {"max_secrecy": Secrecy.CONFIDENTIAL}


@pytest.fixture
def counties(make_user, make_record, settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    bureaus = {}
    for code, name in (("C01", "东台县"), ("C02", "射阳县")):
        county = Unit.objects.create(code=code, name=name, kind=Unit.Kind.COUNTY)
        bureaus[code] = Unit.objects.create(
            code=f"{code}-B", name=f"{name}人社局", kind=Unit.Kind.BUREAU, parent=county
        )
    clerk = make_user(role=Role.READING_CLERK, unit=bureaus["C01"], grants=[WIDE])
    holder = make_user(role=Role.ARCHIVIST, unit=bureaus["C02"], grants=[WIDE])
    record = make_record(actor=holder, unit=bureaus["C02"], person=PERSON, openness="controlled")
    add_files(actor=holder, record=record, files=[("scan.png", scan_png())])
    return clerk, holder


def test_the_desk_asks_the_holder_answers_and_the_desk_prints(login, counties):
    clerk, holder = counties
    desk = login(clerk)
    desk.goto("/remote/")
    assert desk.locator("nav.main >> text=异地查档").count() == 1
    desk.select_option("#id_holder", "C02")
    desk.fill("#id_id_number", PERSON["id_number"])
    desk.fill("#id_reason", "办理退休")
    desk.click("#remote-ask button[type=submit]")
    desk.wait_for_url("**/remote/*/")
    assert "对方已受理" in desk.inner_text("#state")
    assert "[测试档案" not in desk.content()  # nothing of the holder's catalogue

    inbox = login(holder)
    inbox.goto("/remote/inbox/")
    inbox.click("table a")
    assert "[测试档案" in inbox.content()
    inbox.click("button[value=approve]")
    inbox.wait_for_selector("#state")

    desk.reload()
    assert "射阳县出具，东台县送达" in desk.content()
    with desk.expect_download() as download:
        desk.click("text=打印")
    assert download.value.path().read_bytes().startswith(b"%PDF")
