"""OCR benchmark: character accuracy and pages per minute through the whole digitization pipeline.

Renders A4 specimen pages at 200 dpi with known text — simplified and traditional, clean and
noisy (turned up to 1.5°, blurred, speckled, JPEG at lower quality) — into a scan folder tree
(one folder per record, named by its archival code, pages ``0001.jpg`` …) for records created in
a fresh data directory, starts ``--workers`` real task workers (``dangan worker``), and times
``dangan ingest-scans DIR --wait --json`` until every page is processed (checked, read, its
searchable PDF/A, thumbnails and suggestions stored, the record indexed) and the task queue is
empty (the SM3 digests of every new blob filled). Then it reads the OCR text back from the
database and prints character accuracy per kind of page, pages per minute and the CPU seconds
per page of every process of the run (workers and the command).

    .venv/bin/python bench/ocr.py --pages 40                    # a temporary SQLite data dir
    .venv/bin/python bench/ocr.py --pages 40 --steps            # also each step's cost alone
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/ocr .venv/bin/python bench/ocr.py  # fresh db
"""

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangan.settings")


def _setup():
    import django

    django.setup()


def _render(index: int) -> tuple[str, bool, bool, bytes]:
    """Page ``index``: (true text, traditional?, noisy?, JPEG bytes)."""
    from dangan.digitize.specimens import make_specimen, render_specimen, specimen_jpeg

    traditional, noisy = index % 2 == 1, index % 4 >= 2
    specimen = make_specimen(1000 + index, traditional=traditional)
    angle = ((index * 37) % 31 - 15) / 10 if noisy else 0.0  # -1.5° … +1.5°
    image = render_specimen(specimen, angle=angle, noise=1.0 if noisy else 0.0, seed=index)
    return specimen.text, traditional, noisy, specimen_jpeg(image, quality=75 if noisy else 90)


# --- the whole pipeline: ingest-scans and real workers ------------------------------------------


def _make_records(count: int) -> list[str]:
    """``count`` filed records of the unemployment-custody category; their archival codes."""
    from dangan.catalogue.models import Category, Fonds
    from dangan.catalogue.services import create_record

    fonds, category = Fonds.objects.get(code="A001"), Category.objects.get(code="SYTG")
    codes = []
    for n in range(count):
        record = create_record(
            actor=None,
            fonds=fonds,
            category=category,
            values={
                "title": f"[基准档案{n + 1}]",
                "year": 2001,
                "date": datetime.date(2001, 5, 1),
                "responsible": "县人社局",
                "openness": "controlled",
            },
        )
        codes.append(record.archival_code)
    return codes


def _write_scans(root: Path, codes: list[str], pages, per_record: int) -> dict:
    """The pages as a scanning station leaves them; (archival code, file name) -> page index."""
    where = {}
    for index, (_truth, _traditional, _noisy, jpeg) in enumerate(pages):
        code, number = codes[index // per_record], index % per_record + 1
        folder = root / code
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{number:04d}.jpg").write_bytes(jpeg)
        where[(code, f"{number:04d}.jpg")] = index
    return where


def _unfinished() -> tuple[int, int]:
    """(pages not yet done or failed, tasks due or running)."""
    from django.db.models import Q
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    from dangan.digitize.models import PageProcessing

    pages = PageProcessing.objects.exclude(state__in=["done", "failed"]).count()
    due = Q(status="RUNNING") | Q(status="READY", run_after__isnull=True)
    tasks = DBTaskResult.objects.filter(due | Q(status="READY", run_after__lte=timezone.now()))
    return pages, tasks.count()


def _cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system) process ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _run_pipeline(args, env, scans: Path) -> dict:
    """Start the workers, run ``ingest-scans --wait``, wait for pages and queue; the figures."""
    command = [sys.executable, "-m", "dangan.cli"]
    log = (Path(os.environ["DANGAN_DATA_DIR"]) / "workers.log").open("ab")
    workers = [
        subprocess.Popen(
            [*command, "worker", "--sweep-seconds", "600"], env=env, cwd=ROOT, stderr=log
        )
        for _ in range(args.workers)
    ]
    try:
        time.sleep(5)  # let them start (Django, the database); they load the OCR models at work
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started_cpu = sum(_cpu_seconds(worker.pid) for worker in workers)
        started = time.perf_counter()
        ingest = subprocess.run(
            [*command, "ingest-scans", str(scans), "--json", *(["--wait"] if args.wait else [])],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        ingest_done = time.perf_counter()
        pages_done = None
        while True:
            pages, tasks = _unfinished()
            if pages == 0 and pages_done is None:
                pages_done = time.perf_counter()
            if pages == 0 and tasks == 0:
                break
            time.sleep(0.2)
        finished = time.perf_counter()
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "report": json.loads(ingest.stdout),
        "ingest": ingest_done - started,
        "pages": pages_done - started,
        "total": finished - started,
        "cpu": (after.ru_utime + after.ru_stime)
        - (before.ru_utime + before.ru_stime)
        - started_cpu,
    }


def _read_back(where: dict) -> dict:
    """Page index -> the text the pipeline kept for it."""
    from dangan.digitize.models import PageProcessing

    rows = PageProcessing.objects.values_list(
        "page__record__archival_code", "page__filename", "text"
    )
    return {where[(code, name)]: text for code, name, text in rows if (code, name) in where}


def _whole(args, pages, character_accuracy) -> None:
    from django.core.management import call_command
    from django.db import connection

    from dangan.catalogue.models import Record

    env = {**os.environ, "DANGAN_OCR_THREADS": str(args.threads)}
    call_command("migrate", verbosity=0)
    if Record.objects.exists():
        sys.exit(f"{connection.settings_dict['NAME']} already holds records: give a fresh one")
    per_record = args.pages_per_record
    codes = _make_records((len(pages) + per_record - 1) // per_record)
    scans = Path(os.environ["DANGAN_DATA_DIR"]) / "scan-batch"
    where = _write_scans(scans, codes, pages, per_record)
    connection.close()  # the workers and the command write to the database from now on

    figures = _run_pipeline(args, env, scans)
    read = _read_back(where)
    report = figures["report"]
    print(
        f"ingest-scans{' --wait' if args.wait else ''} with {args.workers} workers: "
        f"{report['records']} records, {report['pages']} pages added, "
        f"states {report['states']}, errors {len(report['errors'])}"
    )
    _print_accuracy(pages, read, character_accuracy)
    n = len(pages)
    print(
        f"folder read and stored in {figures['ingest']:.1f} s; every page processed after "
        f"{figures['pages']:.1f} s, the task queue empty after {figures['total']:.1f} s"
    )
    print(
        f"whole pipeline: {60 * n / figures['total']:.1f} pages per minute "
        f"(pages done: {60 * n / figures['pages']:.1f}); load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    cpu = figures["cpu"] / n
    print(
        f"CPU per page, the workers (from their start) and the command: {cpu:.2f} s: on "
        f"{os.cpu_count()} otherwise idle cores ≈ {60 * (os.cpu_count() or 1) / cpu:.0f} "
        "pages per minute"
    )


def _print_accuracy(pages, read: dict, character_accuracy) -> None:
    scores: dict[tuple[bool, bool], list[float]] = {}
    for index, (truth, traditional, noisy, _jpeg) in enumerate(pages):
        scores.setdefault((noisy, traditional), []).append(
            character_accuracy(truth, read.get(index, ""))
        )
    print("character accuracy (mean, worst page):")
    for noisy in (False, True):
        for traditional in (False, True):
            values = scores.get((noisy, traditional), [])
            if values:
                print(
                    f"  {'noisy' if noisy else 'clean':5} "
                    f"{'traditional' if traditional else 'simplified':11}"
                    f" {100 * sum(values) / len(values):6.2f}%  {100 * min(values):6.2f}%"
                    f"  ({len(values)} pages)"
                )


# --- --steps: each step's cost alone, in a process pool (no store, database or queue) -----------


def _pipeline(jpeg: bytes) -> tuple[str, dict]:
    """One page through the pipeline's functions; returns the text read and seconds per step."""
    from dangan.digitize.image_checks import check_page
    from dangan.digitize.ocr import get_engine
    from dangan.digitize.searchable_pdf import ScannedPage, build_searchable_pdf
    from dangan.digitize.suggestions import suggest_metadata
    from dangan.digitize.thumbnails import make_thumbnails

    steps, clock, cpu = {}, time.perf_counter(), time.process_time()

    def lap(name):
        nonlocal clock, cpu
        now, now_cpu = time.perf_counter(), time.process_time()
        steps[name] = (now - clock, now_cpu - cpu)
        clock, cpu = now, now_cpu

    check_page(jpeg)
    lap("checks")
    page = get_engine("rapidocr", threads=_THREADS).recognize(jpeg)
    lap("ocr")
    build_searchable_pdf([ScannedPage(image=jpeg, text=page)])
    lap("pdf")
    make_thumbnails(jpeg)
    lap("thumbnails")
    suggest_metadata(page)
    lap("suggestions")
    return page.text, steps


_THREADS = 1


def _init_worker(threads: int):
    global _THREADS
    _THREADS = threads
    _setup()
    from dangan.digitize.ocr import get_engine

    get_engine("rapidocr", threads=threads)  # load the models before the clock starts


def _steps(args, pages, character_accuracy) -> None:
    with ProcessPoolExecutor(
        args.workers, initializer=_init_worker, initargs=(args.threads,)
    ) as pool:
        started = time.perf_counter()
        results = list(pool.map(_pipeline, [jpeg for *_rest, jpeg in pages]))
        elapsed = time.perf_counter() - started
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for _read, steps in results:
        for name, (seconds, cpu_seconds) in steps.items():
            wall[name] = wall.get(name, 0) + seconds
            cpu[name] = cpu.get(name, 0) + cpu_seconds
    print(f"--steps: the pipeline's functions alone, {args.workers} processes:")
    _print_accuracy(pages, dict(enumerate(read for read, _s in results)), character_accuracy)
    n = len(pages)
    print(
        "seconds per page, wall (CPU): "
        + ", ".join(f"{name} {wall[name] / n:.2f} ({cpu[name] / n:.2f})" for name in wall)
    )
    print(
        f"functions alone: {60 * n / elapsed:.1f} pages per minute, "
        f"{sum(cpu.values()) / n:.2f} CPU-s per page "
        f"(load average {os.getloadavg()[0]:.1f})"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--pages-per-record", type=int, default=4)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads per process")
    parser.add_argument(
        "--no-wait",
        dest="wait",
        action="store_false",
        help="ingest-scans without --wait: only the workers read the pages",
    )
    parser.add_argument("--steps", action="store_true", help="also time each step alone")
    parser.add_argument("--data-dir", help="data directory (default: a temporary one)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ocr-bench-") as temporary:
        os.environ["DANGAN_DATA_DIR"] = args.data_dir or temporary
        os.environ["DANGAN_FIXITY_SCHEDULE"] = "false"  # no fixity round in the middle
        _setup()
        from dangan.digitize.specimens import character_accuracy

        started = time.perf_counter()
        with ProcessPoolExecutor(args.workers) as pool:
            pages = list(pool.map(_render, range(args.pages)))
        print(f"rendered {args.pages} A4 pages at 200 dpi in {time.perf_counter() - started:.1f} s")
        _whole(args, pages, character_accuracy)
        if args.steps:
            _steps(args, pages, character_accuracy)


if __name__ == "__main__":
    main()
