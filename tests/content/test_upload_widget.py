# ruff: noqa: F811 - the browser fixtures are imported, then requested by name
"""The upload widget in a real Chromium: choose several files, reorder them, upload with a
progress bar, then reorder the kept pages by dragging."""

import pytest
from playwright.sync_api import expect

from dangan.content.models import Page
from tests.browser.conftest import (  # noqa: F401 - fixtures of the browser tests
    _keep_migrated_data,
    browser,
    login,
    new_page,
)

from .conftest import jpeg, pdf

pytestmark = pytest.mark.browser


@pytest.fixture(autouse=True)
def _bureau_scheme(transactional_db):
    """Put back the scheme the migrations installed. The browser tests' serialized rollback
    does not restore it here: the connection Playwright's event loop sees is not the one the
    contents were serialized on, so a flushed database stays empty for the next test."""
    from django.apps import apps

    from dangan.catalogue import bureau

    bureau.install(apps)


def test_upload_reorder_and_drag_pages(local_store, login, archivist, make_record):
    record = make_record()
    page = login(archivist)
    page.goto(f"/content/records/{record.pk}/")
    page.set_input_files(
        "[data-file-input]",
        files=[
            {"name": "one.jpg", "mimeType": "image/jpeg", "buffer": jpeg()},
            {"name": "two.pdf", "mimeType": "application/pdf", "buffer": pdf()},
            {"name": "three.jpg", "mimeType": "image/jpeg", "buffer": jpeg()},
        ],
    )
    queue = page.locator("[data-queue] li")
    assert queue.count() == 3
    queue.nth(0).get_by_role("button").nth(1).click()  # "one" down, below "two"
    assert queue.nth(0).inner_text().startswith("two.pdf")
    page.click("[data-upload-button]")
    page.wait_for_selector("tr[data-page-id]")
    names = page.locator("tr[data-page-id] a[download]").all_inner_texts()
    assert names == ["two.pdf", "one.jpg", "three.jpg"]

    rows = page.locator("tr[data-page-id]")
    rows.nth(2).drag_to(rows.nth(0), target_position={"x": 5, "y": 2})
    # expect() instead of wait_for_function: the Content-Security-Policy forbids eval
    expect(page.locator("tr[data-page-id] .position").first).to_have_text("1")
    expect(page.locator("[data-status]")).not_to_have_text("")
    order = list(
        Page.objects.filter(record=record).order_by("position").values_list("filename", flat=True)
    )
    assert order == ["three.jpg", "two.pdf", "one.jpg"]


def test_a_refused_file_is_named_in_the_widget(
    local_store,
    login,
    archivist,
    make_record,
):
    record = make_record()
    page = login(archivist)
    page.goto(f"/content/records/{record.pk}/")
    page.set_input_files(
        "[data-file-input]",
        files=[{"name": "tool.pdf", "mimeType": "application/pdf", "buffer": b"MZ" + bytes(4000)}],
    )
    page.click("[data-upload-button]")
    page.wait_for_selector("[data-errors] li")
    assert "tool.pdf" in page.inner_text("[data-errors]")
    assert not Page.objects.exists()


def test_scans_uploaded_to_a_record_are_read_and_their_text_shown(
    local_store, login, archivist, make_record
):
    """The issue's journey: upload a scan in the record page, let the worker read it (the step
    ``dangan worker`` runs for each queued page), and see the page's text in the viewer."""
    from dangan.digitize import services
    from tests.samples import SAMPLES

    record = make_record()
    page = login(archivist)
    page.goto(f"/content/records/{record.pk}/")
    scan = (SAMPLES / "scans" / "SYTG-00001" / "0001.jpg").read_bytes()
    page.set_input_files(
        "[data-file-input]", files=[{"name": "0001.jpg", "mimeType": "image/jpeg", "buffer": scan}]
    )
    page.click("[data-upload-button]")
    page.wait_for_selector("tr[data-page-id]")
    queued = list(services._claimable().values_list("pk", flat=True))
    assert len(queued) == 1  # the upload queued its page for reading
    assert services.process_page(queued[0]) == "done"

    page.reload()
    expect(page.locator("tr[data-page-id] .page-state")).to_have_class("page-state done")
    page.locator("tr[data-page-id] a").first.click()
    expect(page.locator("pre.ocr-text")).to_contain_text("罗凤秀")
    expect(page.locator("pre.ocr-text")).to_contain_text("失业人员档案托管登记表")
