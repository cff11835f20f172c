"""Two live installations on loopback, for the test and the benchmark: each its own data
directory (SQLite) and its own ``dangan run`` (web server and worker) on its own port."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

SEED = """
import datetime
import io
from PIL import Image
from dangan.content.services import add_files
from dangan.accounts.models import User
from dangan.catalogue.models import Category, Fonds
from dangan.catalogue.services import create_record
from dangan.people.services import check_person, resolve_persons
admin = User.objects.get(username="admin")
for n, number in enumerate({numbers!r}):
    entry = check_person(id_number=number, name="张伟")
    persons = list(resolve_persons(actor=admin, entries=[entry]).values())
    record = create_record(actor=admin, fonds=Fonds.objects.get(code="A001"),
        category=Category.objects.get(code="SYTG"),
        values={{"title": f"[职工档案{{n}}]", "year": 2001,
                "date": datetime.date(2001, 5, 1), "responsible": "县人社局",
                "openness": {openness!r}}},
        persons=persons)
    scan = io.BytesIO()
    Image.new("L", (300, 420), 255).save(scan, "PNG")
    scan.seek(0)
    add_files(actor=admin, record=record, files=[("p1.png", scan)])  # a copy certifies pages
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Installation:
    def __init__(self, code: str, name: str, data_dir, *, auto_approve=False, extra_env=None):
        self.code, self.name, self.data_dir = code, name, data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        self.env.update(
            {
                "DANGAN_DATA_DIR": str(data_dir),
                "DANGAN_INSTALLATION_CODE": code,
                "DANGAN_ISSUER_NAME": name,
                "DANGAN_PUBLIC_URL": self.url,
                "DANGAN_REMOTE_AUTO_APPROVE_OPEN": "true" if auto_approve else "false",
                "DANGAN_REMOTE_SEND_SECONDS": "0.3",
                "DANGAN_REMOTE_RETRY_SECONDS": "0.5",
                "DANGAN_REMOTE_RETRY_MAX_SECONDS": "2",
                "DANGAN_VERIFY_RATE": "10000",
                **(extra_env or {}),
            }
        )
        self.proc = None
        self.log = data_dir / "server.log"

    def start(self, timeout=180):
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dangan.cli",
                "run",
                "--no-demo",
                "--bind",
                f"127.0.0.1:{self.port}",
            ],
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=2).read()
                return self
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(self.log.read_text()) from None
                time.sleep(0.3)
        raise TimeoutError(f"{self.code} did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None

    def dangan(self, *args, check=True) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "dangan.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and done.returncode:
            raise RuntimeError(f"dangan {' '.join(args)}: {done.stderr}")
        return done.stdout

    def json(self, *args):
        return json.loads(self.dangan(*args, "--json"))

    def shell(self, code: str) -> str:
        return self.dangan("shell", "--verbosity", "0", "-c", code)

    def seed(self, numbers, *, openness="controlled"):
        self.shell(SEED.format(numbers=list(numbers), openness=openness))


def pair(a: "Installation", b: "Installation"):
    """Register each as the other's peer, with the key file the other printed."""
    for me, other in ((a, b), (b, a)):
        key = other.data_dir / "handed-over.pem"
        key.write_text(other.dangan("peers", "key"))
        me.dangan("peers", "add", other.code, other.name, other.url, str(key))


def wait_for(predicate, *, timeout=120, every=0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise TimeoutError("waited in vain")
