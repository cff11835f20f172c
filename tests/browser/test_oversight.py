"""The county steers its towns in a real browser: it opens a holdings survey that two towns
answer, inspects one town with two findings and closes one, and oversees a keeper hand-over
after which the new keeper sees the town's records and the old one no longer does."""

import io

import pytest
from django.utils import timezone
from PIL import Image

from dangan.accounts.models import Role, Secrecy, Unit
from dangan.catalogue.selectors import visible_records
from dangan.oversight.models import CustodyHandover, Finding, Survey
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def shipped_checklist():
    from django.apps import apps

    from dangan.oversight import checklist

    checklist.install(apps)


@pytest.fixture
def content_dir(settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    settings.CONTENT_FSYNC = False


def _answer(page, survey, *, kinds, files, moved):
    page.goto(f"/oversight/surveys/{survey.pk}/answer/")
    form = page.locator("#answer-form")
    form.locator("textarea[name=kinds]").fill(kinds)
    form.locator("input[name=files_at_unit]").fill(str(files))
    form.locator("input[name=metres_at_unit]").fill("2.5")
    form.locator("input[name=files_moved]").fill(str(moved))
    form.locator("input[name=year_from]").fill("1998")
    form.locator("input[name=year_to]").fill("2022")
    form.locator("input[name=protections][value=fire]").check()
    form.locator("input[name=digitised_percent]").fill("20")
    form.locator("button[type=submit]").click()
    page.wait_for_selector(".messages .success")


def test_survey_inspection_and_keeper_handover(
    login, make_user, make_record, fonds, tmp_path, content_dir, shipped_checklist
):
    year = timezone.localdate().year
    town = Unit.objects.create(code="T11", name="城关镇社保所", kind=Unit.Kind.TOWN)
    river = Unit.objects.create(code="T12", name="河口镇社保所", kind=Unit.Kind.TOWN)
    county = make_user(role=Role.ARCHIVIST)
    grant = {"fonds": fonds, "unit": town, "max_secrecy": Secrecy.CONFIDENTIAL}
    old = make_user(role=Role.TOWN_CLERK, unit=town, grants=[grant], first_name="老王")
    new = make_user(role=Role.TOWN_CLERK, unit=town, grants=(), first_name="小李")
    river_clerk = make_user(role=Role.TOWN_CLERK, unit=river, grants=())
    witness = make_user(role=Role.LEADER, grants=(), first_name="张科长")
    records = [make_record(unit=town, title=f"[城关镇档案{n}]") for n in (1, 2, 3)]

    # The county opens the survey; two towns answer; the county compares.
    desk = login(county)
    desk.goto("/oversight/surveys/")
    desk.fill("#survey-form input[name=year]", str(year))
    desk.click("#survey-form button[type=submit]")
    desk.wait_for_url("**/oversight/surveys/*/")
    survey = Survey.objects.get(year=year)
    _answer(login(old), survey, kinds="失业人员托管档案", files=120, moved=5)
    _answer(login(river_clerk), survey, kinds="养老保险档案", files=80, moved=0)
    desk.reload()
    row = desk.locator("tr[data-unit=T11]")
    assert row.locator(".reported-moved").inner_text() == "5"
    assert row.locator(".held").inner_text() == "3"
    assert desk.locator("tr[data-unit=T12] .reported-files").inner_text() == "80"

    # An inspection of the town with two findings, one of them closed.
    desk.goto("/oversight/inspections/")
    desk.select_option("#inspection-form select[name=unit]", str(town.pk))
    desk.fill("#inspection-form input[name=year]", str(year))
    desk.click("#inspection-form button[type=submit]")
    desk.wait_for_url("**/oversight/inspections/*/")
    assert desk.locator("dl.facts dd").count() == 6
    photo = tmp_path / "bundle.jpg"
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (120, 90, 60)).save(out, "JPEG")
    photo.write_bytes(out.getvalue())
    for text, with_photo in (("散存档案未装盒", True), ("无温湿度计", False)):
        desk.fill("#finding-form textarea[name=text]", text)
        desk.fill("#finding-form input[name=due_on]", f"{year}-12-31")
        if with_photo:
            desk.set_input_files("#finding-form input[name=photos]", str(photo))
        desk.click("#finding-form button[type=submit]")
        desk.wait_for_selector(f"table.findings td:has-text('{text}')")
    desk.fill("form.close-finding >> nth=1 >> input[name=resolution]", "已购置温湿度计")
    desk.click("form.close-finding >> nth=1 >> button")
    desk.wait_for_selector("table.findings tr.closed")
    assert desk.locator("table.findings tr.open").count() == 1
    assert desk.locator("table.findings tr.open img").count() == 1
    assert Finding.objects.filter(closed_at__isnull=True).get().text == "散存档案未装盒"
    report = desk.request.get(desk.locator("#report-pdf").get_attribute("href"))
    assert report.ok and report.body().startswith(b"%PDF")
    desk.goto(f"/oversight/inspections/?year={year}")
    assert town.name in desk.locator("table.ranking").inner_text()

    # The keeper hand-over: drawn up by the county, signed by the three parties.
    desk.goto("/oversight/custody/")
    form = desk.locator("#custody-form")
    form.locator("select[name=unit]").select_option(str(town.pk))
    form.locator("select[name=outgoing]").select_option(str(old.pk))
    form.locator("select[name=incoming]").select_option(str(new.pk))
    form.locator("select[name=witness]").select_option(str(witness.pk))
    form.locator("button[type=submit]").click()
    desk.wait_for_url("**/oversight/custody/*/")
    desk.fill("#custody-item-form input[name=description]", "档案室钥匙")
    desk.click("#custody-item-form button[type=submit]")
    desk.wait_for_selector("table.custody-items td:has-text('档案室钥匙')")
    handover = CustodyHandover.objects.get()
    for party, user in (("outgoing", old), ("incoming", new), ("witness", witness)):
        page = login(user)
        page.goto(f"/oversight/custody/{handover.pk}/")
        for box in page.locator("#sign-form input[name=checked]").all():
            box.check()
        page.fill("#sign-form input[name=password]", PASSWORD)
        page.click("#sign-form button[type=submit]")
        page.wait_for_selector(f".signed-{party}")
        handover.refresh_from_db()
        if party != "witness":  # unsigned by all: nothing has moved yet
            assert handover.state == CustodyHandover.State.OPEN
            assert not visible_records(new).exists()
    assert handover.state == CustodyHandover.State.SIGNED
    assert set(visible_records(new)) == set(records)
    assert not visible_records(old).exists()

    newcomer = login(new)
    newcomer.goto(f"/catalogue/{records[0].pk}/")
    assert records[0].title in newcomer.content()
    gone = login(old)
    response = gone.goto(f"/catalogue/{records[0].pk}/")
    assert response.status == 404
