"""Benchmark: many staff and citizens at once against several web servers.

    .venv/bin/python bench/load.py                                  # 200 sessions, 60 s, 2 servers
    .venv/bin/python bench/load.py --sessions 50 --seconds 20       # a quick check
    .venv/bin/python bench/load.py --cluster                        # the large configuration
    DATABASE_URL=postgres://… DATABASE_REPLICA_URL=postgres://… REDIS_URL=redis://… \
        DANGAN_TASKS=rq .venv/bin/python bench/load.py --servers 3   # services of your own

Starts ``--servers`` waitress web servers (``waitress-serve dangan.wsgi:application``, as
docs/deploy.md runs them) with this environment, so the configuration under test is whatever
the environment says: SQLite and local memory with none, PostgreSQL with a replica, Redis for
cache and sessions and the RQ queue for the large one (``--cluster`` starts those services
first, as ``tests/scale/cluster.py`` does for the cluster test; needs root). Fills the catalogue
with ``dangan demo`` when it is empty, makes staff (archivists) and citizens with sessions, then
runs ``--sessions`` sessions side by side for ``--seconds``, each a person clicking about every
``--think`` seconds (random 0.5×–1.5×): staff open the record list, look up a name, search page
text, open a record and now and then the dashboard; citizens open the portal, search the open
catalogue and their own records. Requests go round the servers (what nginx's upstream does) and
carry an ``X-Forwarded-For`` of their own, as nginx sets it, so per-address limits count per
person. Each person is a thread with keep-alive ``http.client`` connections: the load generator
shares the machine's cores with the servers, so it must cost little.

Prints requests, throughput, p50/p95/p99 latency, errors (any status ≥ 400 or a failed
connection), p95 per kind of page, and CPU milliseconds per request of the web servers, of the
load generator and of the whole machine (which counts the database and anything else running:
on a shared machine the web servers' figure is the one that does not depend on the neighbours).
Target: p95 under 300 ms and no errors.
"""

import argparse
import http.client
import json
import os
import random
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path
from urllib.parse import quote, urlsplit
from urllib.request import urlopen

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sessions", type=int, default=200, help="people at once (default 200)")
    parser.add_argument("--seconds", type=float, default=60, help="how long (default 60)")
    parser.add_argument("--servers", type=int, default=2, help="web servers to start (default 2)")
    parser.add_argument("--threads", type=int, default=16, help="threads per web server")
    parser.add_argument("--citizens", type=float, default=0.5, help="share of citizen sessions")
    parser.add_argument("--think", type=float, default=2.0, help="seconds between clicks (mean)")
    parser.add_argument("--url", action="append", help="test running servers instead of starting")
    parser.add_argument("--data-dir", default=None, help="DANGAN_DATA_DIR (default: a temp dir)")
    parser.add_argument("--demo-persons", type=int, default=300)
    parser.add_argument("--log-dir", default=None, help="keep the web servers' logs here")
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="start the large configuration first (tests/scale/cluster.py: PostgreSQL with a "
        "streaming replica, Redis, an S3 server; needs root) and run against it",
    )
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    return parser.parse_args()


def setup_django(data_dir: str):
    os.environ["DANGAN_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangan.settings")
    os.environ.setdefault("DANGAN_ALLOWED_HOSTS", "127.0.0.1,localhost")
    Path(data_dir, "static").mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from django.conf import settings

    if settings.CONTENT_STORE == "s3":  # a fresh object store (--cluster) has no bucket yet
        from dangan.content.stores import get_store

        get_store().ensure_bucket()
    from dangan.catalogue.models import Record

    if not Record.objects.exists():
        print("  filling the catalogue with dangan demo…", file=sys.stderr)
        call_command("demo", persons=DEMO_PERSONS, verbosity=0)


DEMO_PERSONS = 300


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_servers(count: int, threads: int, log_dir=None) -> tuple[list[str], list]:
    urls, procs = [], []
    for _ in range(count):
        port = _free_port()
        procs.append(
            subprocess.Popen(
                [
                    str(BIN / "waitress-serve"),
                    f"--listen=127.0.0.1:{port}",
                    f"--threads={threads}",
                    "--connection-limit=1000",  # waitress's default of 100 stalls at 200 sessions
                    "--trusted-proxy=127.0.0.1",
                    "--trusted-proxy-headers=x-forwarded-for x-forwarded-proto",
                    "dangan.wsgi:application",
                ],
                cwd=ROOT,
                env=os.environ.copy(),
                stdout=subprocess.DEVNULL,
                stderr=(Path(log_dir) / f"server-{port}.log").open("ab")
                if log_dir
                else subprocess.DEVNULL,
            )
        )
        urls.append(f"http://127.0.0.1:{port}")
    for url in urls:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urlopen(f"{url}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not come up")
            time.sleep(0.3)
    return urls, procs


def make_people(sessions: int, citizen_share: float):
    """(kind, session key, pages to visit) per session: logged-in archivists and citizens."""
    from django.conf import settings
    from django.test import Client

    from dangan.accounts.models import Role, Secrecy, User
    from dangan.accounts.services import create_user
    from dangan.catalogue.models import Record
    from dangan.people.models import Person

    names = list(Person.objects.values_list("name", flat=True)[:500]) or ["张"]
    words = ["退休", "失业", "登记表", "审批", "鉴定", "参保"]
    record_ids = list(Record.objects.order_by("?").values_list("pk", flat=True)[:500])

    def user(name, role, grants):
        return User.objects.filter(username=name).first() or create_user(
            actor=None, username=name, password="bench pass 42", role=role, grants=grants
        )

    people = []
    citizens = round(sessions * citizen_share)
    for n in range(sessions):
        if n < citizens:
            who = user(f"bench_citizen{n}", Role.CITIZEN, [])
            kind = "citizen"
        else:
            who = user(f"bench_staff{n}", Role.ARCHIVIST, [{"max_secrecy": Secrecy.SECRET}])
            kind = "staff"
        client = Client()
        client.force_login(who)
        people.append((kind, client.cookies[settings.SESSION_COOKIE_NAME].value))
    return people, names, words, record_ids


def staff_page(rng, names, words, record_ids):
    roll = rng.random()
    if roll < 0.3:
        return "list", "/catalogue/"
    if roll < 0.5:
        return "list?q=name", f"/catalogue/?q={rng.choice(names)}"
    if roll < 0.7:
        return "search", f"/search/?q={rng.choice(words)}"
    if roll < 0.95:
        return "record", f"/catalogue/{rng.choice(record_ids)}/"
    return "dashboard", "/stats/"


def citizen_page(rng, names, words, record_ids):
    roll = rng.random()
    if roll < 0.4:
        return "portal", "/portal/"
    if roll < 0.7:
        return "portal search", f"/portal/search/?q={rng.choice(words)}"
    return "my records", "/portal/my/"


def run(urls, people, names, words, record_ids, *, seconds, think):
    """Each person is a thread with one keep-alive connection per server (``http.client``: the
    load generator shares the machine's cores with the servers, so it must cost little)."""
    results = []  # (kind of page, seconds, status or error)
    lock = threading.Lock()
    start = threading.Event()
    stop_at = [0.0]
    targets = [urlsplit(url) for url in urls]

    def person(index, kind, session_key):
        rng = random.Random(index)
        connections = [None] * len(targets)
        headers = {
            "Cookie": f"sessionid={session_key}",
            "X-Forwarded-For": f"10.{index // 65536 % 256}.{index // 256 % 256}.{index % 256 + 1}",
        }
        pick = staff_page if kind == "staff" else citizen_page
        start.wait()
        time.sleep(rng.uniform(0, think))  # people do not all click at the same instant
        n = index
        while time.monotonic() < stop_at[0]:
            label, path = pick(rng, names, words, record_ids)
            server = n % len(targets)
            n += 1
            began = time.perf_counter()
            try:
                if connections[server] is None:
                    target = targets[server]
                    connections[server] = http.client.HTTPConnection(
                        target.hostname, target.port, timeout=30
                    )
                connection = connections[server]
                connection.request("GET", quote(path, safe="/?=&"), headers=headers)
                response = connection.getresponse()
                response.read()
                outcome = response.status
                if response.will_close:
                    connection.close()
                    connections[server] = None
            except (OSError, http.client.HTTPException) as error:
                outcome = type(error).__name__
                connections[server].close()
                connections[server] = None
            elapsed = time.perf_counter() - began
            with lock:
                results.append((label, elapsed, outcome))
            time.sleep(rng.uniform(0.5 * think, 1.5 * think))
        for connection in connections:
            if connection is not None:
                connection.close()

    workers = [
        threading.Thread(target=person, args=(i, kind, key), daemon=True)
        for i, (kind, key) in enumerate(people)
    ]
    for worker in workers:
        worker.start()
    began = time.monotonic()
    stop_at[0] = began + seconds
    start.set()
    for worker in workers:
        worker.join(timeout=seconds + 60)
    return results, time.monotonic() - began


def cpu_seconds(procs) -> dict[str, float]:
    """CPU seconds so far of the web servers, of this process (the load generator) and of the
    whole machine (``/proc/stat``: every process, the database's and other work's too)."""
    tick = os.sysconf("SC_CLK_TCK")
    servers = 0.0
    for proc in procs:
        fields = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        servers += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    own = resource.getrusage(resource.RUSAGE_SELF)
    machine = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    busy = sum(machine) - machine[3] - machine[4]  # all but idle and iowait
    return {"servers": servers, "client": own.ru_utime + own.ru_stime, "machine": busy / tick}


def _quantile(values, q):
    if not values:
        return 0.0
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(results, wall, args, urls, cpu):
    times = sorted(r[1] for r in results)
    errors = Counter(str(r[2]) for r in results if not isinstance(r[2], int) or r[2] >= 400)
    by_kind = defaultdict(list)
    for label, elapsed, _outcome in results:
        by_kind[label].append(elapsed)
    summary = {
        "sessions": args.sessions,
        "seconds": round(wall, 1),
        "servers": len(urls),
        "think_seconds": args.think,
        "database": os.environ.get("DATABASE_URL", "sqlite").split("://")[0],
        "replica": bool(os.environ.get("DATABASE_REPLICA_URL")),
        "redis": bool(os.environ.get("REDIS_URL")),
        "load_average": " ".join(f"{n:.2f}" for n in os.getloadavg()),
        "requests": len(results),
        "throughput_rps": round(len(results) / wall, 1),
        "p50_ms": round(_quantile(times, 50) * 1000, 1),
        "p95_ms": round(_quantile(times, 95) * 1000, 1),
        "p99_ms": round(_quantile(times, 99) * 1000, 1),
        "errors": sum(errors.values()),
        "error_kinds": dict(errors),
        "cpu_ms_per_request": {
            part: round(seconds * 1000 / max(len(results), 1), 1) for part, seconds in cpu.items()
        },
        "p95_ms_by_page": {
            label: round(_quantile(sorted(v), 95) * 1000, 1) for label, v in sorted(by_kind.items())
        },
    }
    print(
        f"\n{summary['sessions']} sessions for {summary['seconds']} s against "
        f"{summary['servers']} servers ({summary['database']}"
        f"{' + replica' if summary['replica'] else ''}{', Redis' if summary['redis'] else ''})"
        f", load average {summary['load_average']}"
    )
    print(f"  requests     {summary['requests']}  ({summary['throughput_rps']} per second)")
    print(
        f"  latency      p50 {summary['p50_ms']} ms   p95 {summary['p95_ms']} ms   "
        f"p99 {summary['p99_ms']} ms   (target p95 < 300 ms)"
    )
    print(f"  errors       {summary['errors']}  {summary['error_kinds'] or ''}")
    per = summary["cpu_ms_per_request"]
    print(
        f"  CPU/request  web servers {per['servers']} ms   load generator {per['client']} ms"
        f"   whole machine {per['machine']} ms ({os.cpu_count()} cores)"
    )
    for label, p95 in summary["p95_ms_by_page"].items():
        print(f"    p95 {label:<15} {p95} ms  ({len(by_kind[label])} requests)")
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    return summary


def main():
    global DEMO_PERSONS
    args = parse_args()
    DEMO_PERSONS = args.demo_persons
    sys.path.insert(0, str(ROOT))
    if args.cluster:
        from tests.scale.cluster import Cluster, missing

        if missing():
            raise SystemExit(f"--cluster needs: {', '.join(missing())}")
        with Cluster(namespaces=0) as cluster:
            os.environ.update(cluster.env())
            bench(args)
    else:
        bench(args)


def bench(args):
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="dangan-load-")
    setup_django(data_dir)
    people, names, words, record_ids = make_people(args.sessions, args.citizens)
    procs = []
    try:
        if args.url:
            urls = args.url
        else:
            urls, procs = start_servers(args.servers, args.threads, args.log_dir)
        before = cpu_seconds(procs)
        results, wall = run(
            urls, people, names, words, record_ids, seconds=args.seconds, think=args.think
        )
        cpu = {key: value - before[key] for key, value in cpu_seconds(procs).items()}
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)
    report(results, wall, args, urls, cpu)


if __name__ == "__main__":
    main()
