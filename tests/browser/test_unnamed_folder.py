"""An archivist catalogues a scan folder that matched no record from what its first page says:
the proposed category with one click, every field the page fills with one click, then saved."""

import pytest
from django.utils import timezone
from PIL import Image

from dangan.catalogue.models import Record
from dangan.content.models import Page
from dangan.digitize.models import ScanBatch

pytestmark = pytest.mark.browser

SAID = {
    "title": ["关于做好2015年就业见习工作的通知"],
    "date": ["2015-03-02"],
    "responsible": ["建湖县人力资源和社会保障局"],
    "doc_number": ["建人社发〔2015〕12号"],
}


def test_the_page_fills_the_folder_s_record_with_one_click(staff_page, archivist, tmp_path):
    root = tmp_path / "scans"
    (root / "W-0009").mkdir(parents=True)
    Image.new("L", (200, 280), 255).save(root / "W-0009" / "0001.png")
    reading = {"file": "0001.png", "fields": SAID, "records": [], "error": "", "path": "W-0009"}
    reading["proposal"] = {"category": "WS", "retention": "D30", "confidence": 0.8, "unit": None}
    batch = ScanBatch.objects.create(
        source=str(root),
        created_by=archivist,
        finished_at=timezone.now(),
        report={
            "records": 0,
            "pages": 0,
            "skipped": 0,
            "unmatched": ["W-0009"],
            "ambiguous": [],
            "gaps": [],
            "errors": [],
            "unnamed": {"W-0009": reading},
        },
    )
    page = staff_page
    page.goto(f"/digitize/batches/{batch.pk}/")
    page.click("table.unnamed-folders a[href$='/unnamed/0/']")
    page.click("a.take-proposal")  # the proposed category, one click
    page.wait_for_selector("form.record-form")
    assert page.input_value("[name=title]") == ""  # nothing filled before it is asked
    page.click("button.suggestion-all")
    assert page.input_value("[name=title]") == SAID["title"][0]
    assert page.input_value("[name=date]") == "2015-03-02"
    assert page.input_value("[name=responsible]") == SAID["responsible"][0]
    assert page.input_value("[name=doc_number]") == SAID["doc_number"][0]
    assert page.input_value("[name=legacy_number]") == "W-0009"
    assert page.input_value("[name=retention]") == "D30"
    page.click("form.record-form button[type=submit]")
    page.wait_for_url("**/catalogue/*/")
    record = Record.objects.get(legacy_number="W-0009")
    assert record.category.code == "WS" and record.doc_number == SAID["doc_number"][0]
    assert Page.objects.filter(record=record).count() == 1
