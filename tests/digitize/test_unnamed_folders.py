"""A scan folder that matches no record: its first page is read at ingest, what it says and the
category the classifier proposes are kept in the batch's report, and the archivist catalogues
the folder from them (field by field or all at once) or attaches it to the record of the person
the page names."""

import io
import json
import shutil

import pytest
from django.core.management import call_command
from django.urls import reverse
from PIL import Image

from dangan.assist import classifier
from dangan.catalogue.models import Openness, PublicAttribute, Record
from dangan.content.models import Page
from dangan.digitize.ingest import run_batch, start_batch
from dangan.digitize.models import ScanBatch
from tests.samples import SAMPLES

pytestmark = pytest.mark.django_db

ROSE = "320925194304016802"  # 罗凤秀, on SYTG-00001's page
TAN = "320925194401267072"  # 谭英娟, on SYTG-00002's page


@pytest.fixture(autouse=True)
def places(settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.DANGAN_LEDGER_WITNESS_DIR = str(tmp_path / "witness")
    settings.DANGAN_CLASSIFY_THRESHOLD = 0.3  # the scheme alone is not very sure


@pytest.fixture
def batch(scheme, make_record, archivist, tmp_path):
    """A batch of two folders no record is named by: the page of a person nobody catalogued
    (SYTG-00002), and a page of the person of SYTG-00001 under a wrong name (SYTG-09999)."""
    classifier.train()  # from the scheme: a fresh instance
    make_record(
        actor=archivist, legacy_number="SYTG-00001", person={"id_number": ROSE, "name": "罗凤秀"}
    )
    root = tmp_path / "scans"
    (root / "SYTG-00002").mkdir(parents=True)
    shutil.copy(SAMPLES / "scans" / "SYTG-00002" / "0001.jpg", root / "SYTG-00002" / "0001.jpg")
    (root / "SYTG-09999").mkdir()
    with Image.open(SAMPLES / "scans" / "SYTG-00001" / "0001.jpg") as image:  # scanned again
        image.convert("L").save(root / "SYTG-09999" / "0001.jpg", quality=80)
    scanned = start_batch(actor=None, folder=root)
    run_batch(scanned.pk)
    scanned.refresh_from_db()
    return scanned


def test_the_first_page_of_an_unnamed_folder_is_read_into_the_batch_report(batch):
    assert batch.report["unmatched"] == ["SYTG-00002", "SYTG-09999"]
    new = batch.report["unnamed"]["SYTG-00002"]
    assert new["file"] == "0001.jpg" and not new["error"]
    assert new["fields"]["persons"] == [f"{TAN} 谭英娟"]
    assert new["fields"]["title"] == ["城乡居民基本养老保险参保登记表"]
    assert new["proposal"]["category"] == "CXJM" and new["proposal"]["confidence"] >= 0.3
    assert new["records"] == []
    # The page of a catalogued person under another folder's name: which records are theirs.
    misnamed = batch.report["unnamed"]["SYTG-09999"]
    assert misnamed["records"] == [Record.objects.get(legacy_number="SYTG-00001").pk]


def test_the_batch_page_lists_what_each_unnamed_folder_says_masked(batch, archivist, logged_in):
    page = logged_in(archivist).get(reverse("digitize:batch-detail", args=[batch.pk]))
    text = page.content.decode()
    assert "unnamed-folders" in text and "谭英娟" in text
    assert TAN not in text and "320925********7072" in text
    assert reverse("digitize:unnamed-folder", args=[batch.pk, 0]) in text
    assert "page-mismatch" in text  # SYTG-09999 shows a catalogued person's number


def test_the_folder_is_catalogued_from_what_its_page_says(batch, archivist, logged_in):
    client = logged_in(archivist)
    url = reverse("digitize:unnamed-folder", args=[batch.pk, 0])
    text = client.get(url).content.decode()
    assert "take-proposal" in text and "?category=CXJM" in text  # proposed, not applied
    assert 'name="title"' not in text  # no form before a category is chosen
    text = client.get(url, {"category": "CXJM", "fonds": "A001"}).content.decode()
    assert f'data-suggest-for="persons" data-value="{TAN} 谭英娟"' in text
    assert 'data-suggest-for="legacy_number" data-value="SYTG-00002"' in text
    assert 'data-suggest-for="retention"' in text and 'class="suggestion-all"' in text
    answer = client.post(
        f"{url}?category=CXJM&fonds=A001",
        {
            "title": "城乡居民基本养老保险参保登记表",
            "date": "1993-04-12",
            "responsible": "建湖县人力资源和社会保障局",
            "retention": "D100",
            "secrecy": "1",
            "openness": Openness.UNREVIEWED,
            "public_attribute": PublicAttribute.NOT_PUBLIC,
            "legacy_number": "SYTG-00002",
            "persons": f"{TAN} 谭英娟",
            "file": "on",
        },
    )
    assert answer.status_code == 302, answer.content.decode()
    record = Record.objects.get(legacy_number="SYTG-00002")
    assert answer.url == reverse("catalogue:record-detail", args=[record.pk])
    assert list(record.persons.values_list("id_number", flat=True)) == [TAN]
    assert Page.objects.filter(record=record).count() == 1
    batch.refresh_from_db()
    assert batch.report["unnamed"]["SYTG-00002"]["record"] == record.pk
    # Dealt with: not offered again.
    again = client.post(f"{url}?category=CXJM&fonds=A001", {"title": "x"})
    assert Record.objects.filter(legacy_number="SYTG-00002").count() == 1
    assert again.status_code == 200 and "record-form" not in again.content.decode()


def test_a_misnamed_folder_is_attached_to_the_record_of_the_person_on_its_page(
    batch, archivist, logged_in
):
    record = Record.objects.get(legacy_number="SYTG-00001")
    client = logged_in(archivist)
    url = reverse("digitize:unnamed-folder", args=[batch.pk, 1])
    assert "attach-to-record" in client.get(url).content.decode()
    client.post(url, {"record": record.pk})
    assert Page.objects.filter(record=record).count() == 1
    batch.refresh_from_db()
    assert batch.report["unnamed"]["SYTG-09999"]["record"] == record.pk
    assert batch.report["pages"] == 1


def test_an_unreadable_or_empty_first_page_offers_nothing(scheme, tmp_path):
    classifier.train()
    root = tmp_path / "scans"
    (root / "BLANK").mkdir(parents=True)
    Image.new("L", (800, 1100), 255).save(root / "BLANK" / "0001.png")
    (root / "BROKEN").mkdir()
    (root / "BROKEN" / "0001.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 300)
    scanned = start_batch(actor=None, folder=root)
    report = run_batch(scanned.pk)
    blank, broken = report["unnamed"]["BLANK"], report["unnamed"]["BROKEN"]
    assert blank["fields"] == {} and blank["proposal"]["category"] is None and not blank["error"]
    assert broken["error"] and broken["fields"] == {}


def test_the_command_line_report_masks_what_the_page_says(scheme, tmp_path):
    classifier.train()
    root = tmp_path / "scans"
    (root / "SYTG-00002").mkdir(parents=True)
    shutil.copy(SAMPLES / "scans" / "SYTG-00002" / "0001.jpg", root / "SYTG-00002" / "0001.jpg")
    out = io.StringIO()
    call_command("ingest_scans", str(root), json=True, stdout=out)
    report = json.loads(out.getvalue())
    assert TAN not in out.getvalue()
    assert report["unnamed"]["SYTG-00002"]["fields"]["persons"] == ["320925********7072 谭英娟"]
    assert report["mismatched"] == []
    out = io.StringIO()
    call_command("ingest_scans", str(root), stdout=out)
    assert "SYTG" in out.getvalue() and TAN not in out.getvalue()
    assert ScanBatch.objects.count() == 2
