"""A visitor on a phone (390×844) opens the online exhibition without logging in: the page fits
the screen, the watermarked image of the exhibited page loads, the captions follow the language
chosen, and an exhibit closed meanwhile is gone at the next look.

A screenshot of the phone's page is kept in ``test-artifacts/exhibitions/`` (not in git)."""

import io
from pathlib import Path

import pytest
from PIL import Image

from dangan.accounts.models import Role, Secrecy
from dangan.catalogue.models import Record
from dangan.compilation import services
from dangan.content.services import add_files, keep_bytes
from dangan.digitize.models import PageProcessing

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "exhibitions"


def _jpeg(size=(600, 840)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (245, 240, 228)).save(out, "JPEG")
    return out.getvalue()


def test_a_visitor_on_a_phone_sees_the_exhibition(page, make_user, make_record):
    archivist = make_user()
    leader = make_user(role=Role.LEADER)
    shown, other = (
        make_record(
            title=title,
            openness="open",
            secrecy=Secrecy.PUBLIC,
            person={"name": "李秀英", "id_number": "110101199003074514"},
        )
        for title in ("李秀英的养老保险缴费凭证 110101199003074514", "全县养老保险改革动员大会")
    )
    [scan] = add_files(actor=archivist, record=shown, files=[("p1.jpg", io.BytesIO(_jpeg()))])
    PageProcessing.objects.update_or_create(
        page=scan, defaults={"state": "done", "preview": keep_bytes(name="m.jpg", data=_jpeg())}
    )
    show = services.create_exhibition(
        actor=archivist,
        slug="reform",
        title={"zh_hans": "养老保险改革三十年", "en": "Thirty years of pension reform"},
    )
    section = services.add_section(
        actor=archivist, exhibition=show, title={"zh_hans": "制度建立", "en": "The beginning"}
    )
    for record in (shown, other):
        services.add_exhibit(
            actor=archivist,
            section=section,
            record=record,
            caption={"zh_hans": "说明：" + record.title, "en": "Caption " + record.archival_code},
        )
    services.submit_exhibition(actor=archivist, exhibition=show)
    services.publish_exhibition(actor=leader, exhibition=show)

    page.set_viewport_size(PHONE)
    page.goto("/exhibitions/")
    page.get_by_role("link", name="养老保险改革三十年").click()
    page.wait_for_load_state("networkidle")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    image = page.locator("figure.exhibit img")
    assert image.count() == 1
    assert image.evaluate("img => img.complete && img.naturalWidth") == 600
    body = page.inner_text("body")
    assert "李**" in body and "李秀英" not in body and "110101199003074514" not in body
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "phone.png"), full_page=True)

    with page.expect_navigation():
        page.select_option("select[name=language]", "en")
    page.wait_for_load_state("networkidle")
    assert "Thirty years of pension reform" in page.inner_text("h1")
    assert f"Caption {other.archival_code}" in page.inner_text("body")

    Record.objects.filter(pk=other.pk).update(openness="controlled")
    page.reload()
    assert other.archival_code not in page.inner_text("body")
    assert shown.archival_code in page.inner_text("body")
