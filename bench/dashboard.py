"""Benchmark: the dashboard's server time on a large catalogue.

    .venv/bin/python bench/dashboard.py                        # 1,000,000 records, SQLite
    .venv/bin/python bench/dashboard.py --records 100000       # a quick check
    .venv/bin/python bench/dashboard.py --data-dir /tmp/b      # reuse a filled catalogue
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/dashboard.py

The catalogue is filled by ``bench/catalogue_list.py``'s fast path (its ``fill``), plus a few
thousand audit-trail readings for the "use" chart. Then it times, as a leader whose grant
covers everything up to 秘密 and as a leader of one category, over ``--runs`` runs after one
warm-up: the selector ``stats.selectors.dashboard(user)`` and the page (the test client's GET
of ``stats:dashboard``). Target: under 300 ms.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from catalogue_list import fill, setup_django  # noqa: E402 - after the path is set

TARGET_MS = 300
READS = 5000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    return parser.parse_args()


def leaders():
    from dangan.accounts.models import Role, Secrecy, User
    from dangan.accounts.services import create_user
    from dangan.catalogue.models import Category

    def leader(name, grants):
        return User.objects.filter(username=name).first() or create_user(
            actor=None, username=name, password="bench pass 42", role=Role.LEADER, grants=grants
        )

    return [
        ("leader, everything ≤ 秘密", leader("bench_leader", [{"max_secrecy": Secrecy.SECRET}])),
        (
            "leader, category TX",
            leader(
                "bench_leader_tx",
                [{"category": Category.objects.get(code="TX"), "max_secrecy": Secrecy.INTERNAL}],
            ),
        ),
    ]


def add_reads(count):
    """Readings of random records this month, so that "use" has something to count."""
    import random

    from dangan.audit.models import AuditEvent
    from dangan.audit.services import Event, record_events
    from dangan.catalogue.models import Record

    if AuditEvent.objects.filter(action="read").exists():
        return
    top = Record.objects.order_by("-id").values_list("id", flat=True).first()
    rng = random.Random(3)
    record_events(
        actor=None,
        events=[
            Event(action="read", object_type="catalogue.record", object_id=str(rng.randint(1, top)))
            for _ in range(count)
        ],
    )


def timed(function, runs):
    function()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def main():
    args = parse_args()
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="dangan-bench-")
    setup_django(data_dir)
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from dangan.catalogue.models import Record
    from dangan.stats.selectors import dashboard

    if not Record.objects.exists():
        print(f"Filling {data_dir} ({connection.vendor}) …", file=sys.stderr)
        fill(args.records, max(args.records * 3 // 10, 1000), args.seed)
        if connection.vendor == "postgresql":
            # What autovacuum does soon after a bulk load: the visibility map lets PostgreSQL
            # answer the GROUP BY from the index alone (an index-only scan).
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE catalogue_record")
    add_reads(READS)
    records = Record.objects.count()
    print(
        f"\nDashboard, {records:,} records, {connection.vendor}, p50 / max ms over "
        f"{args.runs} runs; target {TARGET_MS} ms"
    )
    header = f"{'viewer':28} {'records seen':>12} {'selector p50':>12} {'max':>8}"
    print(header + f" {'page p50':>9} {'max':>8}")
    for label, user in leaders():
        client = Client(SERVER_NAME="localhost")
        client.force_login(user)
        seen = dashboard(user)["total"]
        s50, smax = timed(lambda user=user: dashboard(user), args.runs)

        def page(client=client):
            response = client.get(reverse("stats:dashboard"))
            assert response.status_code == 200, response.status_code

        p50, pmax = timed(page, args.runs)
        slow = "  SLOW" if max(s50, p50) > TARGET_MS else ""
        print(f"{label:28} {seen:>12,} {s50:>12.1f} {smax:>8.1f} {p50:>9.1f} {pmax:>8.1f}{slow}")


if __name__ == "__main__":
    main()
