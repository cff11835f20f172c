"""Benchmark of transfer packages: ``dangan export-transfer`` and ``dangan import-transfer``.

    .venv/bin/python bench/transfer.py [--items 10000] [--page-kb 100] [--pages 1] [--keep]

Fills a fresh SQLite instance in a temporary directory with ``--items`` filed records of one
category and year, each with ``--pages`` pages of ``--page-kb`` KiB, exports them as one transfer
package (DA/T 93 layout, DA/T 48 EEP with base64 content, BagIt, the transfer-stage four-property
checks run over the written package), then imports the package into a second, empty instance
(its own database and content store, migrated before the clock starts) and prints both
throughputs: items/s and MB/s of content. The import time includes its checks (every byte is
read and hashed again) and the storing of every file.
"""

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup(directory: Path):
    os.environ["DANGAN_DATA_DIR"] = str(directory)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangan.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def fill(items: int, pages: int, page_bytes: int) -> None:
    import datetime

    from django.db import transaction

    from dangan.catalogue.models import Category, Fonds
    from dangan.catalogue.services import RecordDraft, create_records
    from dangan.content.services import attach_blobs, keep_bytes

    category, fonds = Category.objects.get(code="SYTG"), Fonds.objects.get(code="A001")
    done = 0
    while done < items:
        n = min(1000, items - done)
        drafts = [
            RecordDraft(
                fonds=fonds,
                category=category,
                values={
                    "title": f"[失业人员托管档案 {done + i + 1}]",
                    "year": 2001,
                    "date": datetime.date(2001, 5, 1),
                    "responsible": "县人社局",
                    "retention": "D30",
                    "openness": "controlled",
                },
            )
            for i in range(n)
        ]
        records = create_records(actor=None, drafts=drafts)
        for record in records:
            blobs = [
                (
                    f"p{p + 1}.jpg",
                    keep_bytes(
                        name=f"p{p + 1}.jpg",
                        data=b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + os.urandom(page_bytes),
                    ),
                )
                for p in range(pages)
            ]
            with transaction.atomic():
                attach_blobs(actor=None, record=record, files=blobs)
        done += n
        print(f"\rfilled {done}/{items}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)


def import_into(directory: Path, package: Path) -> None:
    """The second instance: migrate (not timed), then receive the package (timed)."""
    setup(directory)
    from dangan.appraisal.transfer import import_transfer

    profile = None
    if os.environ.get("PROFILE_IMPORT"):  # PROFILE_IMPORT=1: where the import's time goes
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    started = time.perf_counter()
    imported = import_transfer(actor=None, source=package)
    if profile is not None:
        import pstats

        profile.disable()
        pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(30)
    result = imported.as_dict()
    result["seconds"] = time.perf_counter() - started
    print(json.dumps(result))


def main():
    if sys.argv[1:2] == ["--import-into"]:
        return import_into(Path(sys.argv[2]), Path(sys.argv[3]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--pages", type=int, default=1, help="pages per item")
    parser.add_argument("--page-kb", type=int, default=100, help="KiB per page")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="dangan-bench-transfer-"))
    try:
        setup(work / "source")
        fill(args.items, args.pages, args.page_kb * 1024)
        from django.core.management import call_command

        out = io.StringIO()
        profile = None
        if os.environ.get("PROFILE"):  # PROFILE=1: where the export's time goes
            import cProfile

            profile = cProfile.Profile()
            profile.enable()
        started = time.perf_counter()
        call_command(
            "export_transfer",
            str(work / "package.tar"),
            "--category",
            "SYTG",
            "--year",
            "2001",
            "--json",
            stdout=out,
        )
        export_seconds = time.perf_counter() - started
        if profile is not None:
            import pstats

            profile.disable()
            pstats.Stats(profile, stream=sys.stderr).sort_stats("tottime").print_stats(25)
        exported = json.loads(out.getvalue())

        # The import runs in a second process: its own settings, database and content store.
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        received = subprocess.run(
            [
                sys.executable,
                __file__,
                "--import-into",
                str(work / "target"),
                str(work / "package.tar"),
            ],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        if received.returncode != 0 or os.environ.get("PROFILE_IMPORT"):
            print(received.stdout[-2000:], received.stderr[-6000:], file=sys.stderr)
        if received.returncode != 0:
            raise SystemExit("import failed")
        imported = json.loads(received.stdout.strip().splitlines()[-1])
        import_seconds = imported["seconds"]
        megabytes = exported["bytes"] / 1e6
        package_mb = (work / "package.tar").stat().st_size / 1e6
        result = {
            "items": exported["items"],
            "files": exported["files"],
            "content_mb": round(megabytes, 1),
            "package_mb": round(package_mb, 1),
            "export_seconds": round(export_seconds, 2),
            "export_items_per_s": round(exported["items"] / export_seconds, 1),
            "export_mb_per_s": round(megabytes / export_seconds, 2),
            "import_seconds": round(import_seconds, 2),
            "import_items_per_s": round(imported["items"] / import_seconds, 1),
            "import_mb_per_s": round(megabytes / import_seconds, 2),
            "checks_passed": exported["passed"] and imported["passed"],
        }
        print(json.dumps(result, indent=1))
    finally:
        if args.keep:
            print(f"kept {work}", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
