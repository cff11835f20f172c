"""OCR benchmark: character accuracy and pages per minute through the digitization pipeline.

Renders A4 specimen pages at 200 dpi with known text — simplified and traditional, clean and
noisy (turned up to 1.5°, blurred, speckled, JPEG at lower quality) — and runs each through the
pipeline a scan batch uses: image checks, OCR, a one-page searchable PDF/A (validated),
thumbnails and the metadata suggestions, in a pool of worker processes (default: one per core,
one onnxruntime thread each). Prints accuracy per kind of page and pages per minute.

    DANGAN_DATA_DIR=/tmp/bench .venv/bin/python bench/ocr.py --pages 20
"""

import argparse
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
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


def _pipeline(jpeg: bytes) -> tuple[str, dict]:
    """One page through the pipeline; returns the text read and seconds per step."""
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads per worker")
    args = parser.parse_args()
    _setup()
    from dangan.digitize.specimens import character_accuracy

    started = time.perf_counter()
    with ProcessPoolExecutor(args.workers) as pool:
        pages = list(pool.map(_render, range(args.pages)))
    print(f"rendered {args.pages} A4 pages at 200 dpi in {time.perf_counter() - started:.1f} s")

    with ProcessPoolExecutor(
        args.workers, initializer=_init_worker, initargs=(args.threads,)
    ) as pool:
        started = time.perf_counter()
        results = list(pool.map(_pipeline, [jpeg for *_rest, jpeg in pages]))
        elapsed = time.perf_counter() - started

    scores: dict[tuple[bool, bool], list[float]] = {}
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for (truth, traditional, noisy, _jpeg), (read, steps) in zip(pages, results, strict=True):
        scores.setdefault((noisy, traditional), []).append(character_accuracy(truth, read))
        for name, (seconds, cpu_seconds) in steps.items():
            wall[name] = wall.get(name, 0) + seconds
            cpu[name] = cpu.get(name, 0) + cpu_seconds
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
    print(
        "seconds per page in a worker, wall (CPU): "
        + ", ".join(
            f"{name} {wall[name] / args.pages:.2f} ({cpu[name] / args.pages:.2f})" for name in wall
        )
    )
    cpu_per_page = sum(cpu.values()) / args.pages
    print(
        f"pipeline: {args.pages} pages in {elapsed:.1f} s with {args.workers} workers = "
        f"{60 * args.pages / elapsed:.1f} pages per minute "
        f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)"
    )
    print(
        f"CPU per page {cpu_per_page:.2f} s: on {args.workers} otherwise idle cores "
        f"≈ {60 * args.workers / cpu_per_page:.0f} pages per minute"
    )


if __name__ == "__main__":
    main()
