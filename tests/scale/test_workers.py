"""Work spread over machines: a page is read by one worker, and a page whose worker died is
taken up by another — read once, never lost, never saved twice."""

import datetime
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from dangan.content.services import add_files
from dangan.digitize import services
from dangan.digitize.models import PageProcessing
from tests.samples import SCANS as SAMPLES

ROOT = Path(__file__).resolve().parents[2]


def _pages(make_record, copies: int):
    rows = []
    for n in range(copies):
        for folder in sorted(SAMPLES.iterdir()):
            record = make_record(legacy_number=f"{folder.name}-{n}")
            data = (folder / "0001.jpg").read_bytes()
            (page,) = add_files(actor=None, record=record, files=[("0001.jpg", io.BytesIO(data))])
            rows.append(PageProcessing.objects.get(page=page))
    return rows


@pytest.fixture
def content(settings, tmp_path):
    settings.CONTENT_DIR = tmp_path / "content"


@pytest.mark.django_db(transaction=True)
def test_a_page_of_a_dead_worker_is_queued_again_once(make_record, content, settings):
    (row,) = _pages(make_record, 1)[:1]
    settings.DANGAN_WORK_LEASE_SECONDS = 60
    old = timezone.now() - datetime.timedelta(seconds=61)
    PageProcessing.objects.filter(pk=row.pk).update(state="running", claimed_at=old, attempts=1)
    assert services.release_expired() == 1
    assert services.release_expired() == 0  # every worker sweeps: the page is queued once
    row.refresh_from_db()
    assert row.state == "pending"


@pytest.mark.django_db(transaction=True)
def test_a_page_that_keeps_killing_its_worker_is_shown_failed(make_record, content, settings):
    row = _pages(make_record, 1)[0]
    old = timezone.now() - datetime.timedelta(seconds=settings.DANGAN_WORK_LEASE_SECONDS + 1)
    PageProcessing.objects.filter(pk=row.pk).update(
        state="running", claimed_at=old, attempts=services.MAX_ATTEMPTS
    )
    assert services.release_expired() == 0
    row.refresh_from_db()
    assert (row.state, row.error) == ("failed", "The worker reading this page stopped.")


@pytest.mark.django_db(transaction=True)
def test_a_worker_that_outlived_its_lease_does_not_save_over_the_other(
    make_record, content, monkeypatch
):
    row = _pages(make_record, 1)[0]

    def slow_read(page):
        # While this worker reads, its lease runs out and another worker claims the page.
        PageProcessing.objects.filter(pk=row.pk).update(
            claimed_at=timezone.now() - services.LEASE - datetime.timedelta(seconds=1)
        )
        assert services.claim(row.pk)
        return {"text": "late result", "engine": "slow"}

    monkeypatch.setattr(services, "_read", slow_read)
    assert services.process_page(row.pk) is None
    row.refresh_from_db()
    assert (row.state, row.attempts, row.text) == ("running", 2, "")


def _database_url() -> str:
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _worker(settings, log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DANGAN_DATA_DIR": str(settings.DATA_DIR),
        "DANGAN_CONTENT_DIR": str(settings.CONTENT_DIR),
        "DANGAN_WORK_LEASE_SECONDS": "20",
        "DANGAN_FIXITY_SCHEDULE": "false",
        "DANGAN_OCR_THREADS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "dangan.cli", "worker", "--sweep-seconds", "1"],
        env=env,
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def _wait(condition, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.django_db(transaction=True)
def test_two_workers_one_killed_mid_job_every_page_read_once(
    make_record, content, settings, tmp_path
):
    rows = _pages(make_record, 2)  # six pages, queued on commit
    pages = PageProcessing.objects.filter(pk__in=[r.pk for r in rows])
    log = tmp_path / "workers.log"
    first = _worker(settings, log)
    second = None
    try:
        _wait(lambda: pages.filter(state="running").exists(), seconds=240, what="a first claim")
        second = _worker(settings, log)
        first.send_signal(signal.SIGKILL)  # the machine is gone: no clean-up at all
        first.wait()
        held = set(pages.filter(state="running").values_list("pk", flat=True))
        assert held, "the killed worker held no page"

        _wait(lambda: not pages.exclude(state="done").exists(), seconds=600, what="every page done")
    finally:
        for worker in (first, second):
            if worker is not None and worker.poll() is None:
                worker.terminate()
                worker.wait(timeout=30)
        print(log.read_text(errors="replace")[-3000:])

    for row in pages:
        assert row.state == "done" and row.text.strip(), row.pk
        assert row.searchable_pdf_id is not None
        # Claimed once, or twice for the page the dead worker held: read to the end once.
        assert row.attempts == (2 if row.pk in held else 1), (row.pk, row.attempts)
