"""An archivist in a real browser: places a box on a shelf, prints its labels, and counts the
room with one box missing."""

import pytest

from dangan.stacks import services
from dangan.stacks.models import Box

pytestmark = pytest.mark.browser


def test_place_a_box_print_its_labels_and_find_one_missing(
    staff_page, archivist, fonds, category, make_record
):
    room = services.create_room(
        actor=archivist, code="K1", name="一号库房", columns=2, sections=2, layers=2
    )
    other = services.create_box(
        actor=archivist, fonds=fonds, shelf=services.find_shelf("K1-02-02-02")
    )
    record = make_record()
    page = staff_page

    page.goto("/stacks/")
    form = page.locator("#box-form")
    form.locator("select[name=fonds]").select_option(str(fonds.pk))
    form.locator("select[name=category]").select_option(str(category.pk))
    form.locator("input[name=year]").fill("2001")
    form.locator("input[name=location]").fill("K1-01-01-01")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/stacks/boxes/*/")
    box = Box.objects.exclude(pk=other.pk).get()
    assert page.locator("dd.location").inner_text() == "K1-01-01-01"

    page.fill("#place-form textarea[name=codes]", record.archival_code)
    page.click("#place-form button[type=submit]")
    page.wait_for_selector("table.box-records a")
    assert record.archival_code in page.locator("table.box-records").inner_text()

    labels = page.request.get(page.locator("#print-labels").get_attribute("href"))
    assert labels.ok and labels.headers["content-type"] == "application/pdf"
    assert labels.body().startswith(b"%PDF")

    page.goto(f"/stacks/rooms/{room.pk}/")
    page.click("form[action$='/inventory/'] button")
    page.wait_for_url("**/stacks/inventories/*/")
    scan = page.locator("#scan-code")
    assert scan.evaluate("el => el === document.activeElement")
    scan.type(box.code.lower())  # as a scanner gun types it, then Enter
    scan.press("Enter")
    page.wait_for_selector(".report .found li:not(.muted)")
    page.click("#close-inventory")
    page.wait_for_selector(".report .missing li:not(.muted)")
    assert page.locator(".report .missing li").all_inner_texts() == [other.code]
    assert page.locator(".report .found li").all_inner_texts() == [box.code]
