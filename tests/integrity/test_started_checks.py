"""The integrity page's buttons: a check runs in the worker as a background job, with its
progress on the job's page and its findings as a spreadsheet, and is kept on the page like one
started from the command line."""

import io

import openpyxl
import pytest
from django.urls import reverse

from dangan.accounts.models import Role
from dangan.catalogue.models import Record
from dangan.content.services import add_files
from dangan.integrity.models import CheckReport, VerifyRun
from dangan.jobs.models import Job
from dangan.jobs.tasks import run_job_task
from tests.content.conftest import jpeg

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def places(settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    settings.DATA_DIR = tmp_path / "data"
    settings.DATA_DIR.mkdir()
    settings.DANGAN_LEDGER_WITNESS_DIR = str(tmp_path / "witness")


@pytest.fixture
def filed(make_record, archivist):
    records = [make_record(actor=archivist) for _ in range(2)]
    add_files(actor=archivist, record=records[1], files=[("p1.jpg", io.BytesIO(jpeg()))])
    return records


def start(client, what):
    answer = client.post(reverse("integrity:check-start", args=[what]))
    job = Job.objects.get()
    assert answer.status_code == 302 and answer["Location"] == job.get_absolute_url()
    return job


def sheet_rows(client, job) -> list[tuple]:
    download = client.get(f"{job.get_absolute_url()}download/")
    book = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    return [
        tuple(c for c in row if c is not None) for row in book.active.iter_rows(values_only=True)
    ]


def test_the_page_offers_buttons_not_command_lines(archivist, logged_in):
    page = logged_in(archivist).get("/integrity/").content.decode()
    for what in ("verify", "filing", "preservation"):
        assert f'action="/integrity/checks/{what}/start/"' in page
    assert "dangan check --stage" not in page and "dangan verify" not in page


def test_a_verification_started_with_the_button_finds_a_tampered_record(
    filed, archivist, logged_in
):
    client = logged_in(archivist)
    Record.objects.filter(pk=filed[0].pk).update(title="[偷改]")  # behind the services' back
    job = start(client, "verify")
    assert job.state == Job.State.QUEUED and job.kind == "integrity.verify"

    assert run_job_task.call(job.pk) == Job.State.DONE
    job.refresh_from_db()
    assert job.done == job.total == 6
    run = VerifyRun.objects.get()
    assert not run.passed and run.created_by == archivist.username
    rows = sheet_rows(client, job)
    assert any(f"record:{filed[0].pk}" in row for row in rows), rows
    page = client.get("/integrity/").content.decode()
    assert f"record:{filed[0].pk}" in page  # kept like a run of dangan verify


def test_the_stage_checks_run_in_the_background_and_are_kept(filed, archivist, logged_in):
    client = logged_in(archivist)
    for what, stage in (("filing", "filing"), ("preservation", "preservation")):
        job = start(client, what)
        assert run_job_task.call(job.pk) == Job.State.DONE
        report = CheckReport.objects.filter(stage=stage).latest("pk")
        rows = sheet_rows(client, job)
        assert any(report.pk in row for row in rows), rows
        job.delete()
    page = client.get("/integrity/").content.decode()
    assert page.count(reverse("integrity:stage-report", args=[report.pk])) == 1


def test_only_those_of_the_integrity_page_start_checks(archivist, make_user, logged_in):
    clerk = logged_in(make_user(role=Role.READING_CLERK))
    assert clerk.post(reverse("integrity:check-start", args=["verify"])).status_code == 403
    client = logged_in(archivist)
    assert client.get(reverse("integrity:check-start", args=["verify"])).status_code == 405
    assert client.post(reverse("integrity:check-start", args=["format"])).status_code == 404
    assert not Job.objects.exists()
