"""Encryption at rest: write and read throughput of the content store, plain beside SM4-GCM and
AES-256-GCM (``DANGAN_CONTENT_ENCRYPTION``), on the same disk, with peak memory reading.

    .venv/bin/python bench/encryption.py [--mb 256] [--files 4] [--dir /tmp/x] [--json]

Writes ``--files`` files of ``--mb`` MB / files each through ``store.receive()`` (SHA-256 + SM3
digests, no fsync, so that the disk's flush does not hide the cipher's cost) and reads them
back through ``store.open()`` in 1 MiB reads. Prints MB/s per way and the ratio to plain.
"""

import argparse
import base64
import json
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

MB = 1_000_000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=256, help="megabytes written per way")
    parser.add_argument("--files", type=int, default=4)
    parser.add_argument("--dir", default="", help="where to write (default: a temporary folder)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    root = Path(args.dir or tempfile.mkdtemp(prefix="dangan-enc-bench-"))
    root.mkdir(parents=True, exist_ok=True)

    from django.conf import settings

    settings.configure(
        DATA_DIR=root,
        DANGAN_CONTENT_KEK=base64.b64encode(os.urandom(32)).decode(),
        DANGAN_CONTENT_KEK_FILE="",
    )
    from dangan.content.stores import CHUNK_BYTES, EncryptedLocalStore, LocalStore

    size = args.mb * MB // args.files
    block = os.urandom(CHUNK_BYTES)
    results = {}
    for way in ("plain", "sm4-gcm", "aes-256-gcm"):
        folder = root / way
        shutil.rmtree(folder, ignore_errors=True)
        if way == "plain":
            store = LocalStore(folder, fsync=False)
        else:
            store = EncryptedLocalStore(folder, fsync=False, algorithm=way)
        start = time.perf_counter()
        keys = []
        for n in range(args.files):
            with store.receive() as incoming:
                incoming.write(n.to_bytes(8, "big"))
                left = size - 8
                while left > 0:
                    incoming.write(block[: min(left, len(block))])
                    left -= len(block)
                keys.append(incoming.commit().key)
        wrote = time.perf_counter() - start
        start = time.perf_counter()
        for key in keys:
            with store.open(key) as stream:
                while stream.read(CHUNK_BYTES):
                    pass
        read = time.perf_counter() - start
        tracemalloc.start()  # the peak of reading one file, apart from the timing
        with store.open(keys[0]) as stream:
            while stream.read(CHUNK_BYTES):
                pass
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        total = size * args.files
        results[way] = {
            "write_mb_s": round(total / MB / wrote, 1),
            "read_mb_s": round(total / MB / read, 1),
            "peak_mib": round(peak / 1024 / 1024, 1),
        }
        shutil.rmtree(folder, ignore_errors=True)
    for way in ("sm4-gcm", "aes-256-gcm"):
        for what in ("write_mb_s", "read_mb_s"):
            results[way][what.replace("_mb_s", "_vs_plain")] = round(
                results[way][what] / results["plain"][what], 2
            )
    if not args.dir:
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        print(json.dumps({"mb": args.mb, "files": args.files, **results}))
        return
    print(f"{args.mb} MB in {args.files} files, local disk, no fsync")
    for way, figures in results.items():
        print(
            f"  {way:12} write {figures['write_mb_s']:8.1f} MB/s   read {figures['read_mb_s']:8.1f}"
            f" MB/s   peak memory reading {figures['peak_mib']:.1f} MiB"
            + (
                f"   (write ×{figures['write_vs_plain']}, read ×{figures['read_vs_plain']})"
                if way != "plain"
                else ""
            )
        )


if __name__ == "__main__":
    main()
