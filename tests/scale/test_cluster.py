"""The province's cluster end to end (issue 12): PostgreSQL with a streaming replica, Redis, an
S3 API server and two worker machines in their own network namespaces. A batch of scans is
ingested, one worker is killed mid-job, and every page ends up read once and ``dangan verify``
clean. Runs where the host allows it (root, ``ip netns``); skipped elsewhere."""

import json
import shutil
import textwrap
import time

import pytest

from tests.samples import SCANS as SAMPLES

from . import cluster

pytestmark = [
    pytest.mark.cluster,
    pytest.mark.skipif(bool(cluster.missing()), reason=f"needs {', '.join(cluster.missing())}"),
]

SETUP = textwrap.dedent(
    """
    import datetime, django
    django.setup()
    from django.core.management import call_command
    call_command("migrate", interactive=False, verbosity=0)
    from dangan.content.stores import get_store
    get_store().ensure_bucket()
    from dangan.catalogue.models import Category, Fonds
    from dangan.catalogue.services import create_record
    fonds, category = Fonds.objects.get(code="A001"), Category.objects.get(code="SYTG")
    for n in range({records}):
        create_record(
            actor=None, fonds=fonds, category=category, persons=[],
            values={{"title": f"[集群测试{{n}}]", "year": 2001, "date": datetime.date(2001, 5, 1),
                    "responsible": "县人社局", "openness": "controlled",
                    "legacy_number": f"CL-{{n:03d}}"}},
        )
    """
)


def _pages(c):
    rows = c.psql(
        "SELECT id, state, attempts, length(text) FROM digitize_pageprocessing ORDER BY id",
        database="dangan",
    )
    return [tuple(line.split("|")) for line in rows.splitlines() if line]


def _wait(condition, seconds, what):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_batch_survives_the_loss_of_a_worker(tmp_path):
    records = 6
    with cluster.Cluster(namespaces=2) as c:
        # The replica streams from the primary.
        assert c.psql("SELECT pg_is_in_recovery()", replica=True) == "t"
        assert c.psql("SELECT count(*) FROM pg_stat_replication") == "1"

        done = c.dangan("shell", "-c", SETUP.format(records=records))
        assert done.returncode == 0, done.stderr[-3000:]

        # A scanning station's batch: one folder per record, named by its legacy number.
        scans = sorted(SAMPLES.iterdir())
        for n in range(records):
            folder = tmp_path / "batch" / f"CL-{n:03d}"
            folder.mkdir(parents=True)
            shutil.copy(scans[n % len(scans)] / "0001.jpg", folder / "0001.jpg")
        done = c.dangan("ingest-scans", str(tmp_path / "batch"), "--json")
        assert done.returncode == 0, done.stderr[-3000:]
        assert json.loads(done.stdout)["pages"] == records

        lease = {"DANGAN_WORK_LEASE_SECONDS": "20"}
        first = c.worker(0, **lease)
        _wait(lambda: any(state == "running" for _id, state, *_ in _pages(c)), 300, "a first claim")
        second = c.worker(1, **lease)
        c.lose_machine(0)  # the first machine is gone, mid-page
        first.wait()
        held = {pk for pk, state, *_ in _pages(c) if state == "running"}
        assert held, "the killed worker held no page"

        _wait(lambda: all(row[1] == "done" for row in _pages(c)), 900, "every page read")
        second.terminate()

        rows = _pages(c)
        assert len(rows) == records
        for pk, state, attempts, text_length in rows:
            assert state == "done" and int(text_length) > 0
            # Read to the end once: claimed once, or twice for the page the dead worker held.
            assert int(attempts) == (2 if pk in held else 1), (pk, attempts)

        # The replica has caught up with the work, and the archive verifies clean.
        _wait(
            lambda: (
                c.psql(
                    "SELECT count(*) FROM digitize_pageprocessing WHERE state = 'done'",
                    replica=True,
                    database="dangan",
                )
                == str(records)
            ),
            60,
            "the replica",
        )
        verify = c.dangan("verify", "--json")
        assert verify.returncode == 0, (verify.stdout[-3000:], verify.stderr[-3000:])
