"""Write throughput of the content store beside ``cp`` of the same files on the same disk.

    .venv/bin/python bench/content_store.py [--dir /tmp/dangan-bench] [--scale 1.0] [--json]

Generates two sets of files — 200 × 5 MB (scanned pages) and 5 × 200 MB (large PDFs, video) —
and writes each set four ways into fresh directories on the same file system:

* ``cp``            : ``cp`` of the files (the bytes may still be in the page cache after it)
* ``cp + sync``     : ``cp`` then ``sync``: the bytes are on disk
* ``store``         : ``LocalStore`` as configured by default, the way an upload of several
                      files and a scanned folder use it (``content.services.add_files``, in
                      groups of ``digitize.ingest.GROUP_PAGES``): SHA-256 in a second thread,
                      one chunk behind the write; each file's fsync started when its last byte
                      is written, while the next file is written; the group linked into place
                      and each directory synced once (``commit_together``). SM3 is not in the
                      write path: a task computes it afterwards.
* ``store 1 by 1``  : the same, one file committed at a time (a derivative, a single upload):
                      fsync of each blob and of its directory before the next begins.
* ``store no-fsync``: the same without fsync (``DANGAN_CONTENT_FSYNC=false``), to compare
                      with plain ``cp``

and prints MB/s (the median of ``--rounds`` rounds, every way in turn) and the ratios of like
with like: ``store / (cp + sync)`` (both durable: the issue's target, ≥ 0.8) and
``store no-fsync / cp`` (neither). ``--sm3`` adds ``sm3 after``:
the later SM3 of the stored blobs (``digests.digest_stream``, as ``ensure_sm3`` reads them) in
MB/s, to size the background work. The sources are read once before timing, so every way reads
them from the page cache alike.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import django

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangan.settings")
django.setup()

from dangan.content.stores import CHUNK_BYTES, LocalStore, commit_together  # noqa: E402
from dangan.digitize.ingest import GROUP_PAGES  # noqa: E402

MB = 1_000_000


def generate(directory: Path, count: int, size: int) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    block = os.urandom(1024 * 1024)
    paths = []
    for n in range(count):
        path = directory / f"file-{n:04d}.bin"
        if not path.exists() or path.stat().st_size != size:
            with open(path, "wb") as out:
                out.write(n.to_bytes(8, "big"))  # every file different: no dedup shortcut
                left = size - 8
                while left > 0:
                    out.write(block[: min(left, len(block))])
                    left -= len(block)
        paths.append(path)
    for path in paths:  # into the page cache, for every contender alike
        with open(path, "rb") as source:
            while source.read(CHUNK_BYTES):
                pass
    return paths


def timed(work) -> float:
    start = time.perf_counter()
    work()
    return time.perf_counter() - start


def run_cp(paths, target: Path, *, durable: bool) -> float:
    target.mkdir(parents=True)

    def work():
        subprocess.run(["cp", *map(str, paths), str(target)], check=True)
        if durable:
            subprocess.run(["sync"], check=True)

    return timed(work)


def run_store(paths, target: Path, *, durable: bool, group: int = GROUP_PAGES) -> float:
    store = LocalStore(target, fsync=durable)

    def work():
        for start in range(0, len(paths), group):
            incomings = []
            for path in paths[start : start + group]:
                incoming = store.receive()
                with open(path, "rb") as source:
                    while chunk := source.read(CHUNK_BYTES):
                        incoming.write(chunk)
                incoming.finish_writing()
                incomings.append(incoming)
            commit_together(incomings)

    return timed(work)


def run_store_one_by_one(paths, target: Path, *, durable: bool) -> float:
    return run_store(paths, target, durable=durable, group=1)


def run_sm3_after(paths, target: Path, *, durable: bool) -> float:
    """The background work a stored blob costs later: SHA-256 and SM3 of its bytes."""
    from dangan.content.digests import digest_stream

    def work():
        for path in paths:
            with open(path, "rb") as stream:
                digest_stream(stream, CHUNK_BYTES)

    return timed(work)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", default="/tmp/dangan-bench", type=Path)
    parser.add_argument("--scale", default=1.0, type=float, help="multiply the file counts")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the generated sources")
    parser.add_argument("--sm3", action="store_true", help="also time the later SM3 of the blobs")
    parser.add_argument(
        "--rounds", default=5, type=int, help="rounds of every way in turn; the median is shown"
    )
    args = parser.parse_args()
    sets = [
        ("200 × 5 MB", max(1, round(200 * args.scale)), 5 * MB),
        ("5 × 200 MB", max(1, round(5 * args.scale)), 200 * MB),
    ]
    results = []
    for label, count, size in sets:
        sources = generate(args.dir / "sources" / f"{count}x{size}", count, size)
        total = count * size
        row = {"set": label, "files": count, "bytes": total}
        ways = [
            ("cp", run_cp, False),
            ("cp + sync", run_cp, True),
            ("store", run_store, True),
            ("store 1 by 1", run_store_one_by_one, True),
            ("store no-fsync", run_store, False),
        ]
        if args.sm3:
            ways.append(("sm3 after", run_sm3_after, False))
        rates = {name: [] for name, _, _ in ways}
        for _ in range(args.rounds):  # in turn, so that a noisy moment touches every way alike
            for name, run, durable in ways:
                target = args.dir / "out" / name.replace(" ", "")
                shutil.rmtree(target, ignore_errors=True)
                subprocess.run(["sync"], check=True)  # start each from a quiet disk
                seconds = run(sources, target, durable=durable)
                rates[name].append(total / MB / seconds)
                shutil.rmtree(target, ignore_errors=True)
        for name, values in rates.items():
            row[name] = round(statistics.median(values), 1)
        row["store / (cp + sync)"] = round(row["store"] / row["cp + sync"], 2)
        row["1 by 1 / (cp + sync)"] = round(row["store 1 by 1"] / row["cp + sync"], 2)
        row["store no-fsync / cp"] = round(row["store no-fsync"] / row["cp"], 2)
        results.append(row)
    if not args.keep:
        shutil.rmtree(args.dir / "sources", ignore_errors=True)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return
    print(f"content store write throughput (MB/s, 1 MB = 10^6 bytes) in {args.dir}")
    columns = [
        "cp",
        "cp + sync",
        "store",
        "store 1 by 1",
        "store no-fsync",
        "store / (cp + sync)",
        "1 by 1 / (cp + sync)",
        "store no-fsync / cp",
    ] + (["sm3 after"] if args.sm3 else [])
    print(f"{'set':<12}" + "".join(f"{c:>22}" for c in columns))
    for row in results:
        print(f"{row['set']:<12}" + "".join(f"{row[c]:>22}" for c in columns))


if __name__ == "__main__":
    main()
