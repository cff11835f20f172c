"""A town clerk hands over three items with scans; the archive returns one with a reason; the
clerk corrects and resends it; the archive accepts; all three are then found by search."""

import io

import pytest
from PIL import Image
from stdnum.cn import ric

from dangan.accounts.models import Role, Unit

pytestmark = pytest.mark.browser

PEOPLE = [
    ("欧阳明", "320925198807120" + "11"),
    ("司马青", "320925197903050" + "22"),
    ("诸葛兰", "320925199111230" + "43"),
]


def _id(body17):
    return body17 + ric.calc_check_digit(body17 + "0")


@pytest.fixture
def content_dir(settings, tmp_path):
    settings.CONTENT_DIR = tmp_path / "content"
    settings.CONTENT_FSYNC = False


def _scans(tmp_path, n) -> list[str]:
    paths = []
    for page in (1, 2):
        path = tmp_path / f"item{n}-{page}.jpg"
        out = io.BytesIO()
        Image.new("RGB", (60, 80), (n * 40, page * 60, 120)).save(out, "JPEG")
        path.write_bytes(out.getvalue())
        paths.append(str(path))
    return paths


def test_town_hands_over_archive_returns_one_clerk_resends_all_found(
    login, make_user, archivist, tmp_path, content_dir
):
    town = Unit.objects.create(code="T07", name="城关镇社保所", kind=Unit.Kind.TOWN)
    clerk = make_user(role=Role.TOWN_CLERK, unit=town, grants=())
    people = [(name, _id(body)) for name, body in PEOPLE]

    page = login(clerk)
    page.goto("/intake/handover/")
    page.fill("form.handover-new input[name=title]", "2024年第一批托管档案")
    page.select_option("form.handover-new select[name=category]", "SYTG")
    page.click("form.handover-new button[type=submit]")
    page.wait_for_selector("form.handover-item")
    for n, (name, number) in enumerate(people, start=1):
        form = page.locator("form.handover-item")
        form.locator("input[name=date]").fill(f"2024-0{n}-10")
        form.locator("input[name=responsible]").fill("城关镇社保所")
        form.locator("input[name=legacy_number]").fill(f"CG-2024-{n:03d}")
        form.locator("input[name=person_name]").fill(name)
        form.locator("input[name=person_id]").fill(number)
        form.locator("input[name=files]").set_input_files(_scans(tmp_path, n))
        form.locator("button[type=submit]").click()
        page.wait_for_selector(f"table.handover-items tr.item[data-item='{n}']")
    page.click("form.handover-send button[type=submit]")
    page.wait_for_selector("p.check-summary.passed")
    first_url = page.url

    office = login(archivist)
    office.goto("/intake/handover/")
    office.click("table.handover-lists a")
    row = office.locator("tr.item[data-item='2']")
    row.locator("input[value=returned]").check()
    row.locator("input[type=text]").fill("第2页不清晰，请重新扫描")
    office.click("form.handover-answer button[name=answer]")
    office.wait_for_selector("tr.item[data-item='2'] .verdict.returned")
    assert office.locator(".verdict.accepted").count() == 2
    office.click("p.check-summary a >> nth=1")  # the receipt register
    assert "电子文件归档登记表" in office.content()

    page.goto(first_url)
    assert "第2页不清晰，请重新扫描" in page.inner_text("tr.item[data-item='2'] .reason")
    page.click("form.handover-correct button[type=submit]")
    page.wait_for_selector("ol.handover-history li >> nth=1")
    page.click("tr.item[data-item='1'] a")
    page.wait_for_selector("p.returned-reason")
    page.fill("textarea[name=remarks]", "已重新扫描")
    page.set_input_files("input[name=files]", _scans(tmp_path, 9))
    page.click("form.handover-item button[type=submit]")
    page.wait_for_selector("form.handover-send")
    page.click("form.handover-send button[type=submit]")
    page.wait_for_selector("p.check-summary.passed")
    assert page.locator("ol.handover-history li").count() == 2

    office.goto("/intake/handover/")
    office.click("table.handover-lists tbody tr:first-child a")  # newest first: version 2
    office.wait_for_selector("form.handover-answer button[name=answer]")
    office.click("form.handover-answer button[name=answer]")
    office.wait_for_selector(".verdict.accepted")

    for name, _number in people:
        office.goto(f"/search/?q={name}")
        office.wait_for_selector("ol.hits li.hit")
        assert name in office.inner_text("ol.hits")
