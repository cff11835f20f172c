"""A province's cluster on one test host: PostgreSQL with a streaming replica, Redis, an S3 API
server (moto) and network namespaces for workers that reach them over a (virtual) network.

Needs root (namespaces, running PostgreSQL as its own user), ``ip``, PostgreSQL's server
binaries, ``redis-server`` and ``moto_server``. ``missing()`` says what is not there.
"""

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)), "")


def _pg(name: str) -> str:
    return str(Path(PG_BIN) / name) if PG_BIN else (shutil.which(name) or name)


def missing() -> list[str]:
    """What this host lacks for the cluster (empty: all there)."""
    lacking = []
    if os.geteuid() != 0:
        lacking.append("root")
    for tool in ("ip", "redis-server", "runuser"):
        if not shutil.which(tool):
            lacking.append(tool)
    for tool in ("initdb", "pg_ctl", "pg_basebackup", "psql"):
        if not Path(_pg(tool)).exists():
            lacking.append(tool)
    if not (Path(sys.executable).parent / "moto_server").exists():
        lacking.append("moto_server")
    if not lacking:
        probe = f"dangan-probe-{os.getpid()}"
        if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode:
            lacking.append("ip netns")
        else:
            subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return lacking


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_port(host: str, port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"nothing answers on {host}:{port}")


def _as_postgres(*command, **kwargs):
    return subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True, **kwargs)


class Cluster:
    """Start with ``with Cluster(workers=2) as cluster:``; ``cluster.env(host)`` is the
    environment of a machine that reaches the services at ``host``."""

    def __init__(self, *, namespaces: int = 2):
        self.namespaces = namespaces
        self.tag = f"{os.getpid() % 10000}"
        self.folder = Path(tempfile.mkdtemp(prefix="dangan-cluster-", dir="/tmp"))
        self.folder.chmod(0o755)
        self.procs: list[subprocess.Popen] = []
        self.cleanups = []
        self.hosts: list[tuple[str, str]] = []  # (namespace, address of the host side)

    # --- services ---------------------------------------------------------------------------

    def _postgres(self):
        primary, replica = self.folder / "pg-primary", self.folder / "pg-replica"
        for folder in (primary, replica):
            folder.mkdir(mode=0o700)
            shutil.chown(folder, "postgres", "postgres")
        self.pg_logs = self.folder / "pg-logs"
        self.pg_logs.mkdir()
        shutil.chown(self.pg_logs, "postgres", "postgres")
        sockets = self.folder / "sockets"
        sockets.mkdir(mode=0o777)
        sockets.chmod(0o777)
        self.pg_port, self.replica_port = free_port(), free_port()
        _as_postgres(
            _pg("initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            capture_output=True,
        )  # fmt: skip
        with (primary / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '*'\nport = {self.pg_port}\n"
                f"unix_socket_directories = '{sockets}'\nwal_level = replica\n"
                "max_wal_senders = 5\nfsync = off\nsynchronous_commit = off\n"
                "max_connections = 200\n"
            )
        with (primary / "pg_hba.conf").open("a") as hba:
            hba.write("host all all 0.0.0.0/0 trust\nhost replication all 0.0.0.0/0 trust\n")
        self._pg_ctl(primary, "start")
        self.cleanups.append(lambda: self._pg_ctl(primary, "stop", "-m", "immediate"))
        _as_postgres(
            _pg("pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "postgres",
            "-D", str(replica), "-R", "-X", "stream", capture_output=True,
        )  # fmt: skip
        with (replica / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"port = {self.replica_port}\n")
        self._pg_ctl(replica, "start")
        self.cleanups.append(lambda: self._pg_ctl(replica, "stop", "-m", "immediate"))
        self.psql("CREATE DATABASE dangan")

    def _pg_ctl(self, folder, action, *extra):
        _as_postgres(
            _pg("pg_ctl"), "-D", str(folder), "-l", str(self.pg_logs / f"{folder.name}.log"), "-w",
            action, *extra,
            capture_output=True,
        )  # fmt: skip

    def psql(self, sql: str, *, replica: bool = False, database: str = "postgres") -> str:
        port = self.replica_port if replica else self.pg_port
        done = subprocess.run(
            [_pg("psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-d", database,
             "-At", "-c", sql],
            capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout.strip()

    def _daemon(self, command, **kwargs) -> subprocess.Popen:
        log = (self.folder / f"{Path(command[0]).name}-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, **kwargs)
        self.procs.append(proc)
        return proc

    def _redis(self):
        self.redis_port = free_port()
        self._daemon(
            ["redis-server", "--port", str(self.redis_port), "--bind", "0.0.0.0",
             "--protected-mode", "no", "--save", "", "--dir", str(self.folder)]
        )  # fmt: skip
        wait_for_port("127.0.0.1", self.redis_port)

    def _s3(self):
        self.s3_port = free_port()
        self._daemon(
            [str(Path(sys.executable).parent / "moto_server"), "-H", "0.0.0.0",
             "-p", str(self.s3_port)]
        )  # fmt: skip
        wait_for_port("127.0.0.1", self.s3_port)

    def _network(self):
        """One namespace per worker machine, each joined to the host by a veth pair."""
        for n in range(1, self.namespaces + 1):
            name, host_if, ns_if = f"dg{self.tag}w{n}", f"dg{self.tag}h{n}", f"dg{self.tag}n{n}"
            net = f"10.231.{(int(self.tag) * 8 + n) % 250}"
            steps = [
                ["ip", "netns", "add", name],
                ["ip", "link", "add", host_if, "type", "veth", "peer", "name", ns_if],
                ["ip", "link", "set", ns_if, "netns", name],
                ["ip", "addr", "add", f"{net}.1/24", "dev", host_if],
                ["ip", "link", "set", host_if, "up"],
                ["ip", "netns", "exec", name, "ip", "addr", "add", f"{net}.2/24", "dev", ns_if],
                ["ip", "netns", "exec", name, "ip", "link", "set", ns_if, "up"],
                ["ip", "netns", "exec", name, "ip", "link", "set", "lo", "up"],
            ]
            self.cleanups.append(
                lambda name=name, host_if=host_if: (
                    subprocess.run(["ip", "link", "del", host_if], capture_output=True),
                    subprocess.run(["ip", "netns", "del", name], capture_output=True),
                )
            )
            for step in steps:
                subprocess.run(step, check=True, capture_output=True)
            self.hosts.append((name, f"{net}.1"))

    def __enter__(self):
        try:
            self._postgres()
            self._redis()
            self._s3()
            self._network()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(self, *exc):
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=10)
            if proc.poll() is None:
                proc.kill()
        for cleanup in reversed(self.cleanups):
            with contextlib.suppress(Exception):
                cleanup()
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- machines ---------------------------------------------------------------------------

    def env(self, host: str = "127.0.0.1", **extra) -> dict:
        """The environment of one machine of the province, reaching the services at ``host``."""
        env = {k: v for k, v in os.environ.items() if not k.startswith(("DANGAN_", "DATABASE_"))}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "dangan.settings",
                "DANGAN_DATA_DIR": str(self.folder / f"data-{host}"),
                "DANGAN_SECRET_KEY": "cluster-test-secret-key-" + self.tag * 8,
                "DATABASE_URL": f"postgres://postgres@{host}:{self.pg_port}/dangan",
                "DATABASE_REPLICA_URL": f"postgres://postgres@{host}:{self.replica_port}/dangan",
                "REDIS_URL": f"redis://{host}:{self.redis_port}/0",
                "DANGAN_TASKS": "rq",
                "DANGAN_CONTENT_STORE": "s3",
                "DANGAN_S3_ENDPOINT_URL": f"http://{host}:{self.s3_port}",
                "DANGAN_S3_BUCKET": "dangan",
                "DANGAN_S3_ACCESS_KEY": "testing",
                "DANGAN_S3_SECRET_KEY": "testing",
                "DANGAN_FIXITY_SCHEDULE": "false",
                "DANGAN_OCR_THREADS": "1",
                **extra,
            }
        )
        return env

    def dangan(self, *args, env=None, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "dangan.cli", *args],
            cwd=ROOT,
            env=env or self.env(),
            capture_output=True,
            text=True,
            **kwargs,
        )

    def worker(self, n: int, **extra) -> subprocess.Popen:
        """A worker on machine ``n`` (its own network namespace)."""
        namespace, host = self.hosts[n]
        return self._daemon(
            ["ip", "netns", "exec", namespace, sys.executable, "-m", "dangan.cli", "worker",
             "--sweep-seconds", "1"],
            cwd=ROOT,
            env=self.env(host, **extra),
        )  # fmt: skip

    def lose_machine(self, n: int) -> None:
        """Kill every process of machine ``n`` at once, as a power cut would (an RQ worker runs
        each job in a forked child of its own session: killing the worker alone leaves it)."""
        namespace, _host = self.hosts[n]
        pids = subprocess.run(
            ["ip", "netns", "pids", namespace], capture_output=True, text=True, check=True
        ).stdout.split()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
