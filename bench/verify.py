"""Benchmark of ``dangan verify``: blob verification beside bare hashlib, and a big ledger.

    .venv/bin/python bench/verify.py                      # 512 MB of blobs, 1,000,000 events
    .venv/bin/python bench/verify.py --events 10000000 --persons 1000000  # the issue's size
    .venv/bin/python bench/verify.py --events 100000 --blob-mb 64   # quick check
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_verify .venv/bin/python bench/verify.py

1. Blobs: writes ``--blob-mb`` of random files into a content store laid out as the archive's
   (``ab/cd/abcd…``), then in one run, twice each, alternating: a bare streaming SHA-256
   (hashlib, 1 MiB reads, one thread) over the files, and ``verify.check_bytes`` over the same
   files (SHA-256 only, its threads; and once with SM3 of every blob). Prints MB/s of each and
   the ratio (target: verify >= 75% of bare hashlib).
2. Ledger: fills a fresh database with ``--events`` entries by bulk SQL (COPY on PostgreSQL,
   ``executemany`` on SQLite; hashes computed the way ``ledger.append`` does, ``--per-day``
   entries a day, each day's root sealed and signed), then times ``chain_pass`` and
   ``check_days`` (what ``dangan verify`` does with the ledger). Prints the seconds and the
   extrapolation to 10,000,000 entries (target: under 60 s).
3. Persons: ``--persons`` rows in the persons table (bulk SQL), each with its ``person.added``
   entry among the ledger's ``--events`` (the first ones), then times ``check_persons`` (each
   person's ID number, name, sex and birth date against their latest entry) and prints the
   seconds, the cost per person and the extrapolation of chain + persons to 10,000,000 entries
   and 1,000,000 persons (the issue's size; target: 40 s at most, aim 30 s).
"""

import argparse
import datetime
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

MIB = 1024 * 1024


def bare_sha256(paths) -> int:
    total = 0
    for path in paths:
        sha = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(MIB):
                sha.update(chunk)
                total += len(chunk)
        sha.hexdigest()
    return total


def bench_blobs(directory: Path, megabytes: int, file_mb: int, workers) -> None:
    from django.test import override_settings

    from dangan.content.stores import blob_key
    from dangan.integrity import verify

    root = directory / "content"
    blobs, paths = [], []
    for n in range(max(1, megabytes // file_mb)):
        data = os.urandom(file_mb * MIB)
        sha = hashlib.sha256(data).hexdigest()
        path = root / blob_key(sha)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        blobs.append((n + 1, sha, "", len(data)))
        paths.append(path)
    total = sum(b[3] for b in blobs)
    with override_settings(CONTENT_STORE="local", CONTENT_DIR=root):
        bare_sha256(paths)  # warm the page cache: both read the same cached bytes
        bare, ours = [], []
        for _ in range(2):
            t = time.perf_counter()
            bare_sha256(paths)
            bare.append(total / MIB / (time.perf_counter() - t))
            t = time.perf_counter()
            result = verify.check_bytes(blobs, workers=workers, sm3="none")
            ours.append(total / MIB / (time.perf_counter() - t))
            assert not result["bad"], result["bad"]
        t = time.perf_counter()
        verify.check_bytes(blobs, workers=1, sm3="none")
        single = total / MIB / (time.perf_counter() - t)
        t = time.perf_counter()
        with_sm3 = verify.check_bytes(
            [(i, s, _sm3_of(p), z) for (i, s, _x, z), p in zip(blobs, paths, strict=True)],
            workers=workers,
            sm3="all",
        )
        sm3_rate = total / MIB / (time.perf_counter() - t)
        assert not with_sm3["bad"], with_sm3["bad"]
    b, o = max(bare), max(ours)
    print(f"blobs: {len(blobs)} files, {total / MIB:.0f} MiB (page cache)")
    print(f"  bare hashlib SHA-256, 1 MiB reads, 1 thread:  {b:8.0f} MiB/s")
    print(
        f"  verify.check_bytes SHA-256, {workers or 'auto'} threads:"
        f"     {o:8.0f} MiB/s  ({o / b:.0%})"
    )
    print(
        f"  verify.check_bytes SHA-256, 1 thread:         {single:8.0f} MiB/s  ({single / b:.0%})"
    )
    print(f"  verify.check_bytes SHA-256 + SM3 (all):       {sm3_rate:8.0f} MiB/s")


def _sm3_of(path) -> str:
    from dangan.content.digests import sm3

    h = sm3()
    with open(path, "rb") as f:
        while chunk := f.read(MIB):
            h.update(chunk)
    return h.hexdigest()


def _person(n: int) -> tuple:
    """Person ``n`` of the bench: (ID number, name, sex, birth date), the way the archive
    stores them (the check digit is not checked here)."""
    birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=n % 20_000)
    number = f"320925{birth:%Y%m%d}{n // 20_000 % 1000:03d}X"  # unique below 20,000,000
    return number, f"测试{n % 9973}", "M" if n % 2 else "F", birth


def fill_persons(persons: int) -> float:
    """Write ``persons`` rows (ids 1…n) by bulk SQL; seconds."""
    from django.db import connection, transaction

    from dangan.people.models import Person

    started = time.perf_counter()
    table = Person._meta.db_table
    columns = (
        "id, id_number, id_number_15, name, name_folded, id_reversed, sex, birth_date, "
        "created_at, updated_at"
    )
    now = "2020-01-01 00:00:00"
    batch = []

    def flush():
        if not batch:
            return
        if connection.vendor == "postgresql":
            with (
                connection.cursor() as cursor,
                cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in batch:
                    copy.write_row(row)
        else:
            connection.connection.executemany(
                f"INSERT INTO {table} ({columns}) VALUES (?,?,?,?,?,?,?,?,?,?)", batch
            )
        batch.clear()

    stamp = now + "+00" if connection.vendor == "postgresql" else now
    with transaction.atomic():
        connection.ensure_connection()
        for n in range(1, persons + 1):
            number, name, sex, birth = _person(n)
            batch.append(
                (n, number, "", name, name, number[::-1], sex, birth.isoformat(), stamp, stamp)
            )
            if len(batch) >= 50_000:
                flush()
        flush()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
    return time.perf_counter() - started


def fill_ledger(events: int, per_day: int, persons: int = 0) -> float:
    """Write ``events`` chained entries and each day's signed root by bulk SQL; seconds. The
    first ``persons`` entries are the ``person.added`` entries of persons 1…n."""
    import base64

    from django.db import connection, transaction

    from dangan.integrity import ledger
    from dangan.integrity.models import DayRoot, LedgerEntry, LedgerHead
    from dangan.people.digests import digest_of_line, person_line

    started = time.perf_counter()
    private = ledger.signing_key()
    public = ledger.public_key_text(private)
    first_day = datetime.date(2020, 1, 1)
    table = LedgerEntry._meta.db_table
    columns = "seq, at, day, kind, subject, digest, actor, details, previous, hash"
    previous, batch, roots = "", [], []
    leaves, day_first = [], 1
    kinds = [ledger.RECORD_FILED, ledger.RECORD_CHANGED, ledger.CONTENT_ADDED]
    vendor = connection.vendor

    def flush():
        if not batch:
            return
        if vendor == "postgresql":
            with (
                connection.cursor() as cursor,
                cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                for row in batch:
                    copy.write_row(row)
        else:
            connection.connection.executemany(
                f"INSERT INTO {table} ({columns}) VALUES (?,?,?,?,?,?,?,?,?,?)", batch
            )
        batch.clear()

    with transaction.atomic():
        connection.ensure_connection()
        for seq in range(1, events + 1):
            n = (seq - 1) // per_day
            day = first_day + datetime.timedelta(days=n)
            at = f"{day.isoformat()} 02:{(seq // 60) % 60:02d}:{seq % 60:02d}"
            kind = kinds[seq % 3] if seq > persons else ledger.PERSON_ADDED
            if kind == ledger.PERSON_ADDED:
                subject = f"person:{seq}"
                digest = digest_of_line(person_line(*_person(seq)))
            elif kind == ledger.CONTENT_ADDED:
                subject = "blob:" + hashlib.sha256(str(seq).encode()).hexdigest()
                digest = f"sha256:{subject[5:]} sm3:{subject[5:]}"
            else:
                subject = f"record:{seq % 500_000 + 1}"
                digest = "sha256:" + hashlib.sha256(subject.encode()).hexdigest()
            details = '{"archival_code":"A001-WS·2020-Y-0001","state":"filed"}'
            line = ledger.entry_line(
                seq, previous, at, day.isoformat(), kind, subject, digest, "clerk", details
            )
            h = hashlib.sha256(line).digest()
            hx = h.hex()
            at_value = at + "+00" if vendor == "postgresql" else at
            batch.append(
                (
                    seq,
                    at_value,
                    day.isoformat(),
                    kind,
                    subject,
                    digest,
                    "clerk",
                    details,
                    previous,
                    hx,
                )
            )
            previous = hx
            leaves.append(h)
            if seq % per_day == 0 or seq == events:
                root = DayRoot(
                    day=day,
                    first_seq=day_first,
                    last_seq=seq,
                    count=len(leaves),
                    root=ledger.merkle_root(leaves),
                    last_hash=hx,
                    algorithm="ed25519",
                    public_key=public,
                    sealed_at=datetime.datetime.now(datetime.UTC),
                )
                root.signature = base64.b64encode(private.sign(ledger.signed_text(root))).decode()
                roots.append(root)
                leaves, day_first = [], seq + 1
            if len(batch) >= 50_000:
                flush()
                print(f"\r  filling: {seq:,}", end="", file=sys.stderr, flush=True)
        flush()
        DayRoot.objects.bulk_create(roots, batch_size=1000)
        LedgerHead.objects.update_or_create(pk=1, defaults={"seq": events, "hash": previous})
    print(file=sys.stderr)
    if vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {table}")
    return time.perf_counter() - started


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the worker processes)."""
    import resource

    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _server_cpu() -> float | None:
    """CPU seconds of this connection's PostgreSQL backend, when it runs on this machine."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def bench_ledger(events: int, per_day: int, workers, reuse=False, persons=0) -> None:
    from dangan.integrity import verify
    from dangan.integrity.models import LedgerEntry
    from dangan.people.models import Person

    if reuse:
        events = LedgerEntry.objects.count()
        persons = Person.objects.count()
        print(f"ledger: {events:,} entries and {persons:,} persons already there (--reuse)")
    else:
        fill = fill_persons(persons)
        print(f"persons: {persons:,} written by bulk SQL in {fill:.0f} s")
        fill = fill_ledger(events, per_day, persons)
        print(f"ledger: {events:,} entries ({per_day:,} a day) written by bulk SQL in {fill:.0f} s")
    best = None
    for w in [1, workers or min(os.cpu_count() or 1, 4)]:
        t = time.perf_counter()
        cpu, server = _cpu(), _server_cpu() if w == 1 else None
        chain = verify.chain_pass(workers=w)
        report = verify.Report()
        verify.name_chain_problems(report, chain["problems"])
        verify.check_days(report, chain["days"])
        seconds = time.perf_counter() - t
        cpu = _cpu() - cpu
        if server is not None:
            now = _server_cpu()
            server = None if now is None else now - server
        assert chain["count"] == events and report.passed, report.problems[:5]
        print(
            f"  verify chain + {report.counts['sealed_days']} day roots, {w} process(es): "
            f"{seconds:6.1f} s  ({events / seconds:,.0f} entries/s; "
            f"10,000,000 entries ≈ {10_000_000 / events * seconds:.0f} s); "
            f"CPU of this side {cpu:.1f} s (≈ {10_000_000 / events * cpu / w:.0f} s for 10M "
            f"on {w} idle core(s))"
            + (
                f"; PostgreSQL backend CPU {server:.1f} s"
                if server is not None
                else "; database server's CPU not counted"
            )
        )
        best = seconds if best is None else min(best, seconds)
    if persons:
        t = time.perf_counter()
        cpu = _cpu()
        report = verify.Report()
        flagged = verify.check_persons(report)
        seconds, cpu = time.perf_counter() - t, _cpu() - cpu
        assert not flagged and report.passed, report.problems[:5]
        per = seconds / persons
        full = 10_000_000 / events * best + 1_000_000 * per
        print(
            f"  verify persons: {persons:,} in {seconds:.1f} s ({per * 1e6:.1f} µs a person, "
            f"CPU of this side {cpu:.1f} s); 1,000,000 persons ≈ {1_000_000 * per:.1f} s; "
            f"10,000,000 entries + 1,000,000 persons ≈ {full:.0f} s (target ≤ 40 s, aim 30 s)"
        )


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--per-day", type=int, default=20_000)
    parser.add_argument(
        "--persons", type=int, default=100_000, help="persons (1,000,000 for the issue's size)"
    )
    parser.add_argument("--blob-mb", type=int, default=512)
    parser.add_argument("--file-mb", type=int, default=16)
    parser.add_argument("--workers", type=int, default=None, help="threads / processes")
    parser.add_argument("--data-dir", help="use this data folder (default: a temporary one)")
    parser.add_argument("--skip-blobs", action="store_true")
    parser.add_argument("--skip-ledger", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="time the ledger already in --data-dir / DATABASE_URL"
    )
    args = parser.parse_args()

    directory = Path(args.data_dir or tempfile.mkdtemp(prefix="dangan-bench-verify-"))
    directory.mkdir(parents=True, exist_ok=True)
    os.environ["DANGAN_DATA_DIR"] = str(directory)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangan.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    print(
        f"cpus: {os.cpu_count()}, load average {os.getloadavg()[0]:.1f}, data: {directory}, "
        f"database: {django.db.connection.vendor}"
    )
    if not args.skip_blobs:
        bench_blobs(directory, args.blob_mb, args.file_mb, args.workers)
    if not args.skip_ledger:
        from dangan.integrity.models import LedgerEntry

        if LedgerEntry.objects.exists() and not args.reuse:
            sys.exit("The database already holds a ledger: use a fresh --data-dir, or --reuse.")
        bench_ledger(
            args.events, args.per_day, args.workers, reuse=args.reuse, persons=args.persons
        )


if __name__ == "__main__":
    main()
