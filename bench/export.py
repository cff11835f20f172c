"""Benchmark: the record list's Excel export (归档文件目录) of a million records as a background
job: seconds and peak memory.

    .venv/bin/python bench/export.py                          # 1,000,000 records, SQLite
    .venv/bin/python bench/export.py --records 100000         # a quick check
    .venv/bin/python bench/export.py --data-dir /tmp/b        # reuse catalogue_list.py's fill
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/export.py

The catalogue is filled by ``catalogue_list.py``'s fast path (unless the data directory has
records). Then, each in a fresh process so that its peak resident memory (``ru_maxrss``) is its
own: the export as the job runs it (``jobs.services.start_job`` + ``run_job``: every visible
record, written by ``catalogue.exports.write_register`` into the job's file), and, for
comparison, the same writer into a temporary file as the page did inside the request before
(``in-request``), and the audit trail's Excel export as its job runs it (``audit-job``, when
``catalogue_list.py`` filled the trail), and the annual report's PDF over every record
(``report-pdf``; its "rows" are the records counted). ``--only`` runs one of them. Each prints
seconds, rows/s, the file's size and the peak RSS beside the RSS of the process before the
export began. See ``bench/README.md``.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: Peak memory the export may take (issue 22).
TARGET_MB = 300
HOWS = ["job", "in-request", "audit-job", "report-pdf"]


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--only", choices=HOWS, help="one measurement alone")
    parser.add_argument("--measure", choices=HOWS, help=argparse.SUPPRESS)
    return parser.parse_args()


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _current_rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def measure(how: str) -> dict:
    """In this (fresh) process: run the export once; its figures."""
    from catalogue_list import bench_user

    from dangan.catalogue import exports
    from dangan.catalogue.jobs import REGISTER
    from dangan.catalogue.models import Record
    from dangan.catalogue.selectors import browse_records
    from dangan.jobs import services
    from dangan.jobs.models import Job

    user = bench_user()
    filters = {"fonds": None, "category": None, "year": None, "retention": None}
    filters.update(openness=None, state=None, q=None, sort="new")
    before = _current_rss_mb()
    started = time.monotonic()
    if how == "report-pdf":  # the annual report over every record, as its job makes it
        from django.utils import timezone

        job = services.start_job(
            kind="stats.annual_report_pdf",
            owner=user,
            title="bench-report",
            params={"year": timezone.localdate().year},
        )
        state = services.run_job(job.pk)
        job.refresh_from_db()
        assert state == Job.State.DONE, (state, job.message)
        rows, size = Record.objects.count(), job.size
    elif how == "audit-job":
        from dangan.accounts.models import Role, User
        from dangan.accounts.services import create_user

        auditor = User.objects.filter(username="bench_auditor").first() or create_user(
            actor=None, username="bench_auditor", password="bench pass 42", role=Role.AUDITOR
        )
        job = services.start_job(
            kind="audit.trail_xlsx", owner=auditor, title="bench-audit", params={"filters": {}}
        )
        state = services.run_job(job.pk)
        job.refresh_from_db()
        assert state == Job.State.DONE, (state, job.message)
        rows, size = job.total, job.size
    elif how == "job":
        job = services.start_job(
            kind=REGISTER,
            owner=user,
            title="bench-export",
            params={"filters": filters, "shown": filters},
        )
        state = services.run_job(job.pk)
        job.refresh_from_db()
        assert state == Job.State.DONE, (state, job.message)
        rows, size = job.total, job.size
    else:
        output, rows = exports.write_register(browse_records(user, **filters))
        size = os.fstat(output.fileno()).st_size
        output.close()
    seconds = time.monotonic() - started
    return {
        "how": how,
        "rows": rows,
        "seconds": seconds,
        "rows_per_s": rows / seconds,
        "size_mb": size / 1e6,
        "rss_before_mb": before,
        "peak_rss_mb": _rss_mb(),
    }


def main():
    args = parse_args()
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="dangan-bench-")
    from catalogue_list import fill, setup_django

    setup_django(data_dir)
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    from django.db import connection

    from dangan.catalogue.models import Record

    if not Record.objects.exists():
        print(f"Filling {data_dir} ({connection.vendor}) …", file=sys.stderr)
        fill(args.records, max(args.records * 3 // 10, 1000), args.seed)
    records = Record.objects.count()
    vendor = connection.vendor
    from dangan.audit.models import AuditEvent

    hows = ["job", "in-request", "report-pdf"]
    if AuditEvent.objects.count() > 1000:  # filled by catalogue_list.py's deep pages
        hows.append("audit-job")
    connection.close()
    print(
        f"\nExports over {records:,} records, {vendor}; "
        f"load average {os.getloadavg()[0]:.1f}; target peak RSS ≤ {TARGET_MB} MB"
    )
    print(f"{'how':12} {'rows':>9} {'s':>7} {'rows/s':>8} {'MB':>6} {'RSS before':>10} {'peak':>7}")
    for how in [args.only] if args.only else hows:
        answer = subprocess.run(
            [sys.executable, __file__, "--measure", how, "--data-dir", data_dir],
            capture_output=True,
            text=True,
            check=True,
        )
        row = json.loads(answer.stdout.strip().splitlines()[-1])
        print(
            f"{how:12} {row['rows']:>9,} {row['seconds']:>7.1f} {row['rows_per_s']:>8,.0f} "
            f"{row['size_mb']:>6.1f} {row['rss_before_mb']:>10.0f} {row['peak_rss_mb']:>7.0f}"
            + ("  OVER" if row["peak_rss_mb"] > TARGET_MB else "")
        )
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
