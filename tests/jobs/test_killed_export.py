"""A worker killed in the middle of an export: the next worker runs the export again (or, after
``MAX_ATTEMPTS``, marks it failed with the reason), and a half-written file is never offered.

Real processes: ``dangan worker`` runs the annual report's PDF export (stats), is killed with
SIGKILL while writing it, and a second ``dangan worker --burst`` finds the dead worker's task at
its start. The test holds the job's row (a write lock on SQLite) so that the first worker is
caught inside the export, before its file is whole, whatever the machine's speed."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from dangan.jobs import services
from dangan.jobs.models import Job
from tests.pdf_glyphs import assert_chinese_glyphs
from tests.scale.test_workers import _database_url, _wait

ROOT = Path(__file__).resolve().parents[2]


def _worker(settings, log: Path, *args) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DANGAN_DATA_DIR": str(settings.DATA_DIR),
        "DANGAN_FIXITY_SCHEDULE": "false",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "dangan.cli", "worker", "--sweep-seconds", "3600", *args],
        env=env,
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


@pytest.mark.parametrize("earlier_kills", [0, services.MAX_ATTEMPTS - 1])
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_during_an_export(archivist, logged_in, settings, tmp_path, earlier_kills):
    client = logged_in(archivist)
    year = timezone.localdate().year
    started = client.post(reverse("stats:report-export", args=[year, "pdf"]))
    job = Job.objects.get(kind="stats.annual_report_pdf")
    Job.objects.filter(pk=job.pk).update(attempts=earlier_kills)
    final = services.result_path(job)
    part = final.with_name(final.name + ".part")
    log = tmp_path / "workers.log"
    first = _worker(settings, log)
    try:
        _wait(lambda: part.exists(), seconds=300, what="the export to begin")
        with transaction.atomic():
            # The worker's next progress report waits on this row: it is inside the export.
            held = Job.objects.select_for_update().get(pk=job.pk)
            Job.objects.filter(pk=job.pk).update(message="")
            assert held.state == Job.State.RUNNING
            time.sleep(0.5)
            first.send_signal(signal.SIGKILL)  # no clean-up at all
            first.wait()
        job.refresh_from_db()
        assert job.state == Job.State.RUNNING and job.attempts == earlier_kills + 1
        assert not final.exists()  # the half file is under its temporary name alone
        assert client.get(f"{started['Location']}download/").status_code == 404
        assert "download/" not in client.get(started["Location"]).content.decode()

        second = _worker(settings, log, "--burst")
        assert second.wait(timeout=600) == 0
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
        print(log.read_text(errors="replace")[-3000:])

    job.refresh_from_db()
    assert not part.exists()
    if earlier_kills + 1 < services.MAX_ATTEMPTS:
        # run again from the start, to a whole file
        assert (job.state, job.attempts) == (Job.State.DONE, earlier_kills + 2), job.message
        pdf = b"".join(client.get(f"{started['Location']}download/").streaming_content)
        assert pdf.startswith(b"%PDF") and pdf.rstrip().endswith(b"%%EOF")
        assert_chinese_glyphs(pdf)
    else:
        assert job.state == Job.State.FAILED and not final.exists()
        with translation.override(settings.LANGUAGE_CODE):  # the worker's language
            reason = gettext("The worker stopped %(n)d times while doing this work.")
        assert job.message == reason % {"n": services.MAX_ATTEMPTS}
        assert client.get(f"{started['Location']}download/").status_code == 404
        assert job.message in client.get(started["Location"]).content.decode()
