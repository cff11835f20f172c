"""The whole digitization pipeline on real scans: folder ingest, OCR, PDF/A, viewer, resume."""

import datetime
import io
import json
import shutil
import subprocess

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from dangan.accounts.models import Secrecy
from dangan.audit.models import AuditEvent
from dangan.catalogue.models import Category
from dangan.content.models import Page
from dangan.content.selectors import open_blob
from dangan.content.services import add_files
from dangan.digitize import services
from dangan.digitize.models import PageProcessing
from tests.samples import SAMPLES

PERSONS = {
    "SYTG-00001": {"id_number": "320925194304016802", "name": "罗凤秀"},
    "SYTG-00002": {"id_number": "320925194401267072", "name": "谭英娟"},
    "SYTG-00003": {"id_number": "320925194912010594", "name": "江英秀"},
}


@pytest.fixture
def records(make_record):
    return {
        number: make_record(legacy_number=number, person=person)
        for number, person in PERSONS.items()
    }


@pytest.fixture
def scans(tmp_path):
    """The sample scans as a scanning station leaves them, with the usual troubles added."""
    root = tmp_path / "scans"
    shutil.copytree(SAMPLES / "scans", root)
    (root / "SYTG-09999").mkdir()  # a folder no record has
    shutil.copy(root / "SYTG-00001" / "0001.jpg", root / "SYTG-09999" / "0001.jpg")
    shutil.copy(root / "SYTG-00002" / "0001.jpg", root / "SYTG-00002" / "0003.jpg")  # 0002 lost
    (root / "SYTG-00003" / "0002.jpg").write_bytes(b"MZ\x90\x00" + b"\x00" * 200)  # a program
    return root


def ingest(folder, *, wait=True) -> dict:
    out = io.StringIO()
    call_command("ingest_scans", str(folder), json=True, wait=wait, stdout=out)
    return json.loads(out.getvalue())


@pytest.mark.django_db(transaction=True)
def test_a_folder_of_scans_becomes_read_searchable_pages(records, scans):
    report = ingest(scans)
    assert report["records"] == 3
    assert report["pages"] == 3  # 0003.jpg of SYTG-00002 repeats its 0001.jpg: kept once
    assert report["unmatched"] == ["SYTG-09999"]
    assert report["gaps"] == [{"folder": "SYTG-00002", "missing": [2]}]
    assert [(e["folder"], e["file"], e["code"]) for e in report["errors"]] == [
        ("SYTG-00003", "0002.jpg", "format_executable")
    ]
    assert report["states"]["done"] == 3

    first = PageProcessing.objects.get(page__record=records["SYTG-00001"])
    assert "罗凤秀" in first.text and "320925194304016802" in first.text.replace(" ", "")
    assert first.suggestions["id_numbers"] == ["320925194304016802"]
    assert first.suggestions["id_mismatch"] is False
    with open_blob(first.searchable_pdf) as stream:
        pdf = stream.read()
    text = subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True).stdout
    assert "失业人员档案托管登记表" in text.decode().replace(" ", "")
    assert first.thumbnail.format_name == "JPEG"
    # The derivatives were made in memory: kept with their SM3, they queue no task of their own.
    assert first.searchable_pdf.sm3 and first.thumbnail.sm3 and first.preview.sm3
    sm3_tasks = DBTaskResult.objects.filter(task_path="dangan.content.tasks.fill_sm3_task")
    assert sorted(blob for task in sm3_tasks for blob in task.args_kwargs["args"][0]) == sorted(
        Page.objects.values_list("blob_id", flat=True)
    )

    traditional = PageProcessing.objects.get(page__record=records["SYTG-00003"])
    assert "鑑定表" in traditional.text


@pytest.mark.django_db(transaction=True)
def test_running_the_same_folder_again_adds_nothing(records, scans):
    first = ingest(scans)
    assert (first["pages"], first["skipped"]) == (3, 1)  # the repeated scan of SYTG-00002
    again = ingest(scans)
    assert (again["pages"], again["skipped"]) == (0, 4)
    assert Page.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_page_left_by_a_dead_worker_is_taken_up_after_its_lease(records, scans):
    ingest(scans, wait=False)
    row = PageProcessing.objects.filter(state="pending").first()
    PageProcessing.objects.filter(pk=row.pk).update(state="running", claimed_at=timezone.now())
    assert services.process_page(row.pk) is None  # still held by its worker
    PageProcessing.objects.filter(pk=row.pk).update(
        claimed_at=timezone.now() - services.LEASE - datetime.timedelta(seconds=1)
    )
    assert services.process_page(row.pk) == "done"


@pytest.mark.django_db(transaction=True)
def test_an_unreadable_page_is_retried_then_shown_failed(make_record):
    record = make_record()
    broken = b"\xff\xd8\xff\xe0" + b"\x00" * 500  # says JPEG, is not
    (page,) = add_files(actor=None, record=record, files=[("0001.jpg", io.BytesIO(broken))])
    row = PageProcessing.objects.get(page=page)  # uploading queued it
    states = [services.process_page(row.pk) for _ in range(services.MAX_ATTEMPTS)]
    assert states == ["pending", "pending", "failed"]
    row.refresh_from_db()
    assert row.error and row.attempts == services.MAX_ATTEMPTS
    assert services.retry_failed(pages=[page]) == 1


@pytest.mark.django_db(transaction=True)
def test_viewer_shows_the_text_and_only_to_those_who_may_see_the_record(
    records, scans, archivist, make_user, client
):
    ingest(scans)
    page = Page.objects.get(record=records["SYTG-00001"])
    client.force_login(archivist)
    response = client.get(reverse("digitize:page-view", args=[page.pk]))
    assert response.status_code == 200 and "罗凤秀" in response.content.decode()
    pdf = client.get(reverse("digitize:page-derivative", args=[page.pk, "pdf"]))
    assert pdf.status_code == 200 and b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="download", actor=archivist).exists()

    outsider = make_user(
        grants=[{"category": Category.objects.get(code="TX"), "max_secrecy": Secrecy.CONFIDENTIAL}]
    )
    client.force_login(outsider)
    assert client.get(reverse("digitize:page-view", args=[page.pk])).status_code == 404
    assert (
        client.get(reverse("digitize:page-derivative", args=[page.pk, "preview"])).status_code
        == 404
    )
