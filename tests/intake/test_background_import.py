"""A register of more than DANGAN_IMPORT_BACKGROUND_ROWS rows imported on the web runs in the
worker: the page shows its progress and refreshes, the clerk may leave and come back (the import
page and "My downloads" list it), a run cut off with its worker goes on from its checkpoint with
the whole file's report, and rows in error are still reported. Smaller registers import at once."""

import json

import pytest
from django.urls import reverse

from dangan.catalogue.models import Record
from dangan.intake import background
from dangan.intake.models import ImportJob
from dangan.intake.services import find_category, find_fonds, import_register, job_path
from dangan.jobs.models import Job
from dangan.jobs.services import result_path, retry_stopped, run_job

from .conftest import SAMPLE_BAD_ROWS, SAMPLE_DATA_ROWS
from .test_views import upload

pytestmark = pytest.mark.django_db

GOOD_ROWS = SAMPLE_DATA_ROWS - len(SAMPLE_BAD_ROWS)


def _fields(client, url):
    columns = {h: f.value() for h, f in client.get(url).context["form"].columns()}
    return {f"col_{i}": v or "" for i, v in enumerate(columns.values())}


@pytest.fixture
def uploaded(sample, archivist, logged_in):
    client = logged_in(archivist)
    url = upload(client, sample).url
    return client, url, ImportJob.objects.get()


def test_a_small_register_imports_at_once(uploaded, settings):
    client, url, job = uploaded
    assert settings.DANGAN_IMPORT_BACKGROUND_ROWS == 2000
    client.post(url, {**_fields(client, url), "import": "1"})
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and job.background is None
    assert not Job.objects.exists() and Record.objects.count() == GOOD_ROWS


def test_a_large_register_is_imported_by_the_worker_with_its_progress_on_the_page(
    uploaded, settings, archivist
):
    settings.DANGAN_IMPORT_BACKGROUND_ROWS = 10
    client, url, job = uploaded
    fields = _fields(client, url)
    dry = client.post(url, {**fields, "dry_run": "1"})  # the dry run stays on the page, at once
    assert dry.context["report"]["created"] == GOOD_ROWS and not Job.objects.exists()

    answer = client.post(url, {**fields, "import": "1"})
    result = reverse("intake:import-result", args=[job.pk])
    assert answer.status_code == 302 and answer["Location"] == result
    job.refresh_from_db()
    assert job.state == ImportJob.State.QUEUED and Record.objects.count() == 0
    worker_job = job.background
    assert worker_job.kind == background.KIND and worker_job.owner == archivist
    assert worker_job.params["rows"] > SAMPLE_DATA_ROWS  # from the dry run: blank, totals too

    page = client.get(result).content.decode()
    assert 'class="import-progress"' in page and 'http-equiv="refresh"' in page
    assert 'id="report"' not in page
    # while the worker imports, the mapping page leads to the progress, the mapping stays
    assert client.get(url)["Location"] == result
    # the clerk comes back from the import page or from "My downloads"
    start = client.get(reverse("intake:import-start")).content.decode()
    assert f'href="{result}"' in start
    assert worker_job.title in client.get(reverse("jobs:list")).content.decode()

    assert run_job(worker_job.pk) == Job.State.DONE
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and Record.objects.count() == GOOD_ROWS
    page = client.get(result).content.decode()
    assert 'http-equiv="refresh"' not in page and 'class="import-progress"' not in page
    errors = page.split('class="import-errors"')[1].split("</table>")[0]
    assert all(f"<td>{row}</td>" in errors for row in SAMPLE_BAD_ROWS)
    worker_job.refresh_from_db()
    assert worker_job.done == worker_job.total == job.background.params["rows"]
    # the job's page links to the import's outcome; its file is the report as JSON
    assert f'href="{result}"' in client.get(worker_job.get_absolute_url()).content.decode()
    report = json.loads(result_path(worker_job).read_bytes())
    assert report["created"] == GOOD_ROWS and sorted(e["row"] for e in report["errors"]) == sorted(
        SAMPLE_BAD_ROWS
    )


def test_a_confirmation_without_a_reason_is_refused_before_anything_is_queued(uploaded, settings):
    settings.DANGAN_IMPORT_BACKGROUND_ROWS = 10
    client, url, job = uploaded
    answer = client.post(url, {**_fields(client, url), "import": "1", "confirm_filed": "1"})
    assert answer.status_code == 200 and answer.context["form"].non_field_errors()
    assert not Job.objects.exists()


def test_an_import_cut_off_with_its_worker_goes_on_from_its_checkpoint(
    uploaded, settings, archivist
):
    """The first worker commits one batch of 20 rows and dies; the sweep runs the job again,
    which goes on after the committed rows: the report is the whole file's, nothing imported
    twice, nothing counted "unchanged"."""
    settings.DANGAN_IMPORT_BACKGROUND_ROWS = 10
    client, url, job = uploaded
    client.post(url, {**_fields(client, url), "import": "1"})
    job.refresh_from_db()
    worker_job = job.background
    Job.objects.filter(pk=worker_job.pk).update(
        state=Job.State.RUNNING, attempts=1, task_id="cut-off"
    )

    class WorkerDied(BaseException):
        pass

    def die_after_first_batch(report):
        raise WorkerDied

    checkpoint = {}
    with pytest.raises(WorkerDied):
        import_register(
            actor=archivist,
            path=job_path(job),
            category=find_category("SYTG"),
            fonds=find_fonds("A001"),
            mapping=job.mapping,
            job=job,
            progress=die_after_first_batch,
            batch_size=20,
            checkpoint=checkpoint,
        )
    job.refresh_from_db()
    first = Record.objects.count()
    assert 0 < first < GOOD_ROWS and job.checkpoint["row"] > 20
    assert job.checkpoint["created"] == first and job.rows_done >= first

    assert retry_stopped(task_ids=["cut-off"]) == [worker_job.pk]
    assert run_job(worker_job.pk) == Job.State.DONE
    job.refresh_from_db()
    assert job.state == ImportJob.State.DONE and job.checkpoint == {}
    assert Record.objects.count() == GOOD_ROWS
    assert job.report["created"] == GOOD_ROWS and job.report["unchanged"] == 0
    assert job.report["rows"] == SAMPLE_DATA_ROWS
    assert sorted(e["row"] for e in job.report["errors"]) == sorted(SAMPLE_BAD_ROWS)
    assert len(job.report["skipped"]) == 1  # the 共计 row, once


def test_a_register_that_cannot_be_read_any_more_fails_the_job_with_the_reason(uploaded, settings):
    settings.DANGAN_IMPORT_BACKGROUND_ROWS = 10
    client, url, job = uploaded
    client.post(url, {**_fields(client, url), "import": "1"})
    job.refresh_from_db()
    job_path(job).write_bytes(b"not a workbook any more")
    assert run_job(job.background.pk) == Job.State.FAILED
    page = client.get(reverse("intake:import-result", args=[job.pk])).content.decode()
    assert 'class="error import-stopped"' in page and 'http-equiv="refresh"' not in page
    job.background.refresh_from_db()
    assert job.background.message and job.background.message in page
