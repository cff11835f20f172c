"""Certificate verifications per second served by the public /verify/ pages.

    .venv/bin/python bench/certificates.py                     # 10 certificates, 10 s per mode
    .venv/bin/python bench/certificates.py --seconds 30 --threads 8
    .venv/bin/python bench/certificates.py --json
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_certs \
        .venv/bin/python bench/certificates.py

In a fresh data directory (temporary unless ``--data-dir``; SQLite unless ``DATABASE_URL``) it
files ``--certificates`` records with one scanned page each and issues a certified copy of each
through ``access.services.issue_certificate`` (WeasyPrint, the content store, Ed25519). Then, for
``--seconds`` each, it measures what the public pages serve:

* ``client GET``    : Django's test client, one thread, ``GET /verify/<code>/`` (the page with
                      issuer, date, masked summary and the signature checked);
* ``client upload`` : the same client posting the issued PDF to ``/verify/<code>/`` (hashed as
                      it streams in and compared with the digest kept at issue);
* ``server GET`` / ``server upload`` : the same requests to the WSGI application served by
                      waitress (``dangan run``'s server) in its own process on loopback with
                      ``--server-threads`` threads, from ``--threads`` client threads with
                      keep-alive connections.

Beside requests per second (wall clock) it prints requests per CPU-second of the serving
process: on a machine shared with other work, the wall-clock rate is what was left over, while
the CPU figure says what one core gives (×2 for this machine's two cores, less the client's).

Every answer is checked (200 and the expected verdict). The per-address rate limit of /verify/
is raised for the run (``DANGAN_VERIFY_RATE``): the bench is one address. Target: ≥ 200
verifications per second. The machine is shared: run it twice and keep the better figure.
"""

import argparse
import datetime
import http.client
import io
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET = 200


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--certificates", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10.0, help="per mode")
    parser.add_argument("--threads", type=int, default=4, help="client threads (server modes)")
    parser.add_argument("--server-threads", type=int, default=8, help="waitress threads")
    parser.add_argument("--skip-server", action="store_true", help="only the test client")
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--json", action="store_true")
    return parser.parse_args()


def setup(data_dir: str):
    os.environ["DANGAN_DATA_DIR"] = data_dir
    os.environ["DANGAN_VERIFY_RATE"] = str(10**9)
    os.environ.setdefault("DANGAN_CONTENT_FSYNC", "false")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangan.settings")
    Path(data_dir, "static").mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def issue(n: int) -> list[tuple[str, bytes]]:
    """(code, issued PDF bytes) of ``n`` new certificates."""
    from PIL import Image

    from dangan.access import services
    from dangan.accounts.models import Role, Secrecy
    from dangan.accounts.services import create_user
    from dangan.catalogue.models import Category, Fonds
    from dangan.catalogue.services import create_record
    from dangan.content.selectors import open_blob
    from dangan.content.services import add_files

    clerk = create_user(
        actor=None,
        username=f"bench-{uuid.uuid4().hex[:8]}",
        password=uuid.uuid4().hex,
        role=Role.ARCHIVIST,
        grants=[{"max_secrecy": Secrecy.CONFIDENTIAL}],
    )
    fonds, category = Fonds.objects.get(code="A001"), Category.objects.get(code="SYTG")
    made = []
    for i in range(n):
        record = create_record(
            actor=clerk,
            fonds=fonds,
            category=category,
            values={
                "title": f"[测试证明档案{i}]",
                "year": 2001,
                "date": datetime.date(2001, 5, 1),
                "responsible": "县人社局",
                "openness": "open",
            },
        )
        scan = io.BytesIO()
        Image.new("L", (800, 1100), 255).save(scan, "PNG")
        scan.seek(0)
        add_files(actor=clerk, record=record, files=[("scan.png", scan)])
        cert = services.issue_certificate(actor=clerk, record=record)
        with open_blob(cert.blob) as stream:
            made.append((cert.code, stream.read()))
    return made


def multipart(data: bytes) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="copy.pdf"\r\n'
            f"Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, f"multipart/form-data; boundary={boundary}"


def run_for(seconds: float, one) -> tuple[int, float, float]:
    """Requests done, wall seconds, CPU seconds of this process."""
    start, cpu, done = time.perf_counter(), time.process_time(), 0
    while time.perf_counter() - start < seconds:
        one()
        done += 1
    return done, time.perf_counter() - start, time.process_time() - cpu


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def figures(n: int, elapsed: float, cpu: float) -> dict:
    return {
        "requests": n,
        "seconds": round(elapsed, 2),
        "per_second": n / elapsed,
        "per_cpu_second": n / cpu if cpu else 0.0,
    }


def client_modes(certs, seconds: float) -> dict:
    from django.test import Client

    client = Client(HTTP_HOST="localhost", HTTP_ACCEPT_LANGUAGE="en")
    rng = random.Random(1)

    def get():
        code, _pdf = rng.choice(certs)
        response = client.get(f"/verify/{code}/")
        assert response.status_code == 200, response.status_code

    def upload():
        code, pdf = rng.choice(certs)
        response = client.post(f"/verify/{code}/", {"file": io.BytesIO(pdf)})
        assert response.status_code == 200 and b'class="verdict genuine"' in response.content

    get()
    upload()  # warm up: templates, translations, the key
    results = {}
    for name, one in (("client GET", get), ("client upload", upload)):
        n, elapsed, cpu = run_for(seconds, one)
        results[name] = figures(n, elapsed, cpu)
    return results


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, server_threads: int) -> subprocess.Popen:
    """``dangan``'s WSGI application under waitress in its own process, set as ``dangan run``
    and ``docs/deploy.md`` set it (large reads, requests up to 4 MB kept in memory)."""
    code = (
        "import django, waitress; django.setup(); from dangan.wsgi import application; "
        f"waitress.serve(application, host='127.0.0.1', port={port}, threads={server_threads}, "
        "connection_limit=1000, recv_bytes=262144, inbuf_overflow=4194304, _quiet=True)"
    )
    server = subprocess.Popen([sys.executable, "-c", code], env=os.environ.copy())
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("the server did not start")


def server_modes(certs, seconds: float, threads: int, server_threads: int) -> dict:
    port = free_port()
    server = start_server(port, server_threads)
    results = {}
    try:
        warm = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for code, pdf in certs[:3]:  # imports, templates, translations, the key: not measured
            warm.request("GET", f"/verify/{code}/", headers={"Accept-Language": "en"})
            warm.getresponse().read()
            body, kind = multipart(pdf)
            warm.request("POST", f"/verify/{code}/", body=body, headers={"Content-Type": kind})
            warm.getresponse().read()
        warm.close()
        for name, upload in (("server GET", False), ("server upload", True)):
            counts, errors = [0] * threads, []
            stop = time.perf_counter() + seconds

            def worker(i, upload=upload, counts=counts, errors=errors, stop=stop):
                rng = random.Random(i)
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                while time.perf_counter() < stop:
                    code, pdf = rng.choice(certs)
                    headers = {"Host": "127.0.0.1", "Accept-Language": "en"}
                    if upload:
                        body, kind = multipart(pdf)
                        headers["Content-Type"] = kind
                        conn.request("POST", f"/verify/{code}/", body=body, headers=headers)
                    else:
                        conn.request("GET", f"/verify/{code}/", headers=headers)
                    response = conn.getresponse()
                    content = response.read()
                    ok = response.status == 200 and (
                        not upload or b'class="verdict genuine"' in content
                    )
                    if not ok:
                        errors.append(response.status)
                        if len(errors) > 10:
                            return
                    counts[i] += 1
                conn.close()

            workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
            cpu = process_cpu(server.pid)
            started = time.perf_counter()
            for w in workers:
                w.start()
            for w in workers:
                w.join()
            elapsed = time.perf_counter() - started
            if errors:
                raise SystemExit(f"{name}: unexpected answers {errors[:10]}")
            results[name] = figures(sum(counts), elapsed, process_cpu(server.pid) - cpu)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return results


def main():
    args = parse_args()
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="dangan-bench-certs-")
    setup(data_dir)
    started = time.perf_counter()
    certs = issue(args.certificates)
    issue_seconds = time.perf_counter() - started
    results = client_modes(certs, args.seconds)
    if not args.skip_server:
        results.update(server_modes(certs, args.seconds, args.threads, args.server_threads))
    from django.db import connection

    summary = {
        "database": connection.vendor,
        "certificates": len(certs),
        "issue_seconds_each": round(issue_seconds / len(certs), 2),
        "pdf_bytes": sum(len(p) for _c, p in certs) // len(certs),
        "modes": {
            k: {
                **v,
                "per_second": round(v["per_second"], 1),
                "per_cpu_second": round(v["per_cpu_second"], 1),
            }
            for k, v in results.items()
        },
        "target_per_second": TARGET,
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
        return
    print(
        f"{summary['database']}: {len(certs)} certificates issued, "
        f"{summary['issue_seconds_each']} s each, {summary['pdf_bytes']} bytes each"
    )
    for name, row in summary["modes"].items():
        verdict = "ok" if row["per_second"] >= TARGET else "below target"
        print(
            f"{name:15} {row['requests']:7d} in {row['seconds']:6.2f} s  "
            f"{row['per_second']:8.1f} /s  ({verdict}: {TARGET}/s)  "
            f"{row['per_cpu_second']:8.1f} per CPU-second of the server"
        )
    print(f"load average {summary['load_average']} on {summary['cpus']} CPUs (shared machine)")


if __name__ == "__main__":
    main()
