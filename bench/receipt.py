"""Receipt check of an offline hand-over package beside a bare streaming SHA-256 of its files.

    .venv/bin/python bench/receipt.py                          # 100 items, 200 MB (quick)
    .venv/bin/python bench/receipt.py --items 1000 --size-mb 2000   # the full 1,000-item 2 GB run
    .venv/bin/python bench/receipt.py --json --keep /tmp/receipt    # keep the data directory

In a fresh data directory (SQLite, migrated) it drafts a hand-over list of ``--items`` items of
one file each (JPEG-headed random bytes, ``--size-mb`` in all), writes it as a signed package
(``dangan package create``), reads the package once into the page cache, then times in the same
run, over the same files:

* ``bare sha256``  : Python's hashlib, one thread, 1 MiB reads of each file in the package —
                     the machine's limit for SHA-256 as one stream;
* ``receipt``      : ``check_package`` — signature, tag manifest, every file's SHA-256, count,
                     bytes, metadata, numbering, formats, foreign files (SM3 not recomputed);
* ``bare sm3``     : the same reads through SM3 (cryptography), one thread;
* ``receipt +sm3`` : ``check_package(verify_sm3=True)``: SHA-256 and SM3 of every file.

and prints seconds, MB/s and receipt/bare (target: ≥ 0.75 with SHA-256).
"""

import argparse
import hashlib
import json
import os
import sys
import tarfile
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MB = 1_000_000
READ = 1024 * 1024


def build(directory: Path, items: int, total_bytes: int) -> Path:
    import django

    os.environ["DANGAN_DATA_DIR"] = str(directory)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangan.settings")
    os.environ.setdefault("DANGAN_CONTENT_FSYNC", "false")
    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from stdnum.cn import ric

    from dangan.accounts.models import Role, Unit
    from dangan.accounts.services import create_user
    from dangan.catalogue.models import Category, Fonds
    from dangan.intake import handover, packages

    town = Unit.objects.get_or_create(code="BT01", defaults={"name": "测试镇", "kind": "town"})[0]
    clerk = create_user(
        actor=None, username=f"bench{time.time_ns()}", password="x", role=Role.TOWN_CLERK, unit=town
    )
    key_path = directory / "town.key"
    if key_path.exists():
        key_path.unlink()
    packages.create_key(actor=None, unit=town, path=key_path)
    listing = handover.create_list(
        actor=clerk,
        fonds=Fonds.objects.get(code="A001"),
        category=Category.objects.get(code="SYTG"),
        title="bench",
    )
    size = total_bytes // items
    block = os.urandom(READ)
    for n in range(items):
        body = f"3209251985{(n % 12) + 1:02d}01{n % 1000:03d}"
        data = bytearray(b"\xff\xd8\xff\xe0" + n.to_bytes(8, "big"))
        while len(data) < size:
            data += block[: size - len(data)]
        handover.add_item(
            actor=clerk,
            handover=listing,
            values={"date": "2024-01-01", "responsible": "测试镇", "legacy_number": f"B-{n}"},
            persons=[{"id_number": body + ric.calc_check_digit(body + "0"), "name": f"测试{n}"}],
            files=[(f"{n:04d}.jpg", _Stream(bytes(data)))],
        )
    path = directory / "package.tar"
    packages.create_package(
        actor=clerk, handover=listing, key=packages.load_private_key(key_path), destination=path
    )
    return path


class _Stream:
    def __init__(self, data):
        self.data, self.at = data, 0

    def read(self, n):
        chunk = self.data[self.at : self.at + n]
        self.at += len(chunk)
        return chunk


def members(path: Path) -> list:
    with tarfile.open(path) as tar:
        return [(m.offset_data, m.size) for m in tar if m.isfile() and "/data/" in m.name]


def bare(path: Path, ranges, new_hash) -> float:
    started = time.perf_counter()
    buffer = bytearray(READ)
    view = memoryview(buffer)
    with open(path, "rb") as stream:
        for offset, size in ranges:
            digest = new_hash()
            stream.seek(offset)
            left = size
            while left:
                got = stream.readinto(view[: min(READ, left)])
                digest.update(view[:got])
                left -= got
            digest.hexdigest()
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100)
    parser.add_argument("--size-mb", type=float, default=200)
    parser.add_argument("--keep", help="data directory to use and keep")
    parser.add_argument("--runs", type=int, default=3, help="best of this many timings")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    directory = Path(args.keep or tempfile.mkdtemp(prefix="dangan-receipt-"))
    directory.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    path = build(directory, args.items, int(args.size_mb * MB))
    built = time.perf_counter() - started

    from dangan.content.digests import sm3
    from dangan.intake import packages

    ranges = members(path)
    payload = sum(size for _offset, size in ranges)
    bare(path, ranges, hashlib.sha256)  # into the page cache

    def best(function):
        return min(function() for _ in range(args.runs))

    def receipt(**options):
        def run():
            started = time.perf_counter()
            result, _info = packages.check_package(path, **options)
            assert result.passed, result.failed()
            return time.perf_counter() - started

        return run

    times = {
        "bare sha256": best(lambda: bare(path, ranges, hashlib.sha256)),
        "receipt": best(receipt()),
        "bare sm3": best(lambda: bare(path, ranges, sm3)),
        "receipt +sm3": best(receipt(verify_sm3=True)),
    }
    result = {
        "items": args.items,
        "files": len(ranges),
        "payload_mb": round(payload / MB, 1),
        "cpus": os.cpu_count(),
        "build_seconds": round(built, 1),
        "seconds": {k: round(v, 3) for k, v in times.items()},
        "mb_per_s": {k: round(payload / MB / v, 1) for k, v in times.items()},
        "receipt_vs_bare_sha256": round(times["bare sha256"] / times["receipt"], 2),
        "receipt_sm3_vs_bare_sm3": round(times["bare sm3"] / times["receipt +sm3"], 2),
    }
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print(f"{args.items} items, {len(ranges)} files, {payload / MB:.0f} MB payload")
        for name, seconds in times.items():
            print(f"  {name:14} {seconds:8.3f} s  {payload / MB / seconds:8.1f} MB/s")
        print(f"  receipt / bare SHA-256: {result['receipt_vs_bare_sha256']:.2f} (target ≥ 0.75)")
        print(f"  receipt+SM3 / bare SM3: {result['receipt_sm3_vs_bare_sm3']:.2f}")
    if not args.keep:
        import shutil

        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
