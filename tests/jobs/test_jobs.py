"""Background jobs: a user's long work runs in the worker, shows its progress, and offers its
result only when whole, to the user who started it."""

import pytest
from django.core.exceptions import ValidationError
from django_tasks_db.models import DBTaskResult

from dangan.audit.models import AuditEvent
from dangan.jobs import services
from dangan.jobs.models import Job
from dangan.jobs.registry import job_kind
from dangan.jobs.tasks import run_job_task

ROWS = 25


@job_kind("tests.rows", label="rows", suffix=".csv")
def build_rows(job, out, progress):
    count = job.params["rows"]
    for n in range(count):
        out.write(f"{n},行{n}\n".encode())
        progress(n + 1, count)
    if job.params.get("then") == "refuse":
        raise ValidationError("没有可导出的档案。")
    if job.params.get("then") == "crash":
        raise RuntimeError("secret detail 110101199003070015")


def start(user, **params):
    return services.start_job(kind="tests.rows", owner=user, title="花名册", params=params)


@pytest.mark.django_db(transaction=True)
def test_a_job_is_queued_for_the_worker_and_its_result_downloaded_by_its_owner(
    archivist, logged_in
):
    job = start(archivist, rows=ROWS)
    queued = DBTaskResult.objects.get(task_path="dangan.jobs.tasks.run_job_task")
    assert queued.args_kwargs["args"] == [job.pk]
    client = logged_in(archivist)
    waiting = client.get(job.get_absolute_url())
    assert 'http-equiv="refresh"' in waiting.content.decode()  # the page follows the work

    assert run_job_task.call(job.pk) == Job.State.DONE
    job.refresh_from_db()
    assert (job.state, job.done, job.total, job.file_name) == ("done", ROWS, ROWS, "花名册.csv")
    page = client.get(job.get_absolute_url()).content.decode()
    assert "refresh" not in page and "download/" in page
    download = client.get(f"{job.get_absolute_url()}download/")
    body = b"".join(download.streaming_content).decode()
    assert body.splitlines()[-1] == f"{ROWS - 1},行{ROWS - 1}"
    assert "attachment" in download["Content-Disposition"]
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.DOWNLOAD, object_type="jobs.job", object_id=str(job.pk)
    ).exists()
    status = client.get(f"{job.get_absolute_url()}status.json").json()
    assert status["state"] == "done" and status["percent"] == 100 and status["download"]


@pytest.mark.django_db
def test_another_user_neither_sees_nor_downloads_the_job(archivist, make_user, logged_in):
    job = start(archivist, rows=3)
    run_job_task.call(job.pk)
    client = logged_in(make_user())
    for suffix in ("", "download/", "status.json"):
        assert client.get(f"{job.get_absolute_url()}{suffix}").status_code == 404
    assert "花名册" not in client.get("/jobs/").content.decode()


@pytest.mark.django_db
def test_a_refused_job_says_why_and_offers_no_half_file(archivist, logged_in):
    job = start(archivist, rows=5, then="refuse")
    assert run_job_task.call(job.pk) == Job.State.FAILED
    job.refresh_from_db()
    assert job.message == "没有可导出的档案。"
    assert not services.result_path(job).exists()
    assert not services.result_path(job).with_name(f"{job.pk}.csv.part").exists()
    client = logged_in(archivist)
    assert client.get(f"{job.get_absolute_url()}download/").status_code == 404
    assert "没有可导出的档案。" in client.get(job.get_absolute_url()).content.decode()


@pytest.mark.django_db
def test_a_crashed_job_shows_no_internals(archivist):
    job = start(archivist, rows=2, then="crash")
    run_job_task.call(job.pk)
    job.refresh_from_db()
    assert job.state == "failed"
    assert "110101199003070015" not in job.message and "RuntimeError" not in job.message


@pytest.mark.django_db
def test_a_job_cut_off_with_its_worker_runs_again_then_gives_up(archivist):
    job = start(archivist, rows=4)
    Job.objects.filter(pk=job.pk).update(state=Job.State.RUNNING, attempts=1, task_id="t-1")
    services.result_path(job).parent.mkdir(parents=True, exist_ok=True)
    half = services.result_path(job).with_name(f"{job.pk}.csv.part")
    half.write_bytes(b"0,")
    assert services.retry_stopped(task_ids=["t-1"]) == [job.pk]
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED and not half.exists()
    assert run_job_task.call(job.pk) == Job.State.DONE

    Job.objects.filter(pk=job.pk).update(
        state=Job.State.RUNNING, attempts=services.MAX_ATTEMPTS, task_id="t-2"
    )
    services.retry_stopped(task_ids=["t-2"])
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and str(services.MAX_ATTEMPTS) in job.message


@pytest.mark.django_db
def test_every_page_leads_to_my_downloads(archivist, logged_in):
    client = logged_in(archivist)
    assert 'href="/jobs/"' in client.get("/").content.decode()
    start(archivist, rows=1)
    assert "花名册" in client.get("/jobs/").content.decode()


@pytest.mark.django_db
def test_results_older_than_the_keeping_days_are_pruned_with_their_files(archivist, settings):
    from datetime import timedelta

    from django.utils import timezone

    old, recent = start(archivist, rows=1), start(archivist, rows=1)
    for job in (old, recent):
        run_job_task.call(job.pk)
    days_ago = timezone.now() - timedelta(days=settings.DANGAN_JOB_KEEP_DAYS + 1)
    Job.objects.filter(pk=old.pk).update(finished_at=days_ago)
    assert services.prune_expired() == 1
    assert not Job.objects.filter(pk=old.pk).exists() and not services.result_path(old).exists()
    assert services.result_path(recent).exists()
