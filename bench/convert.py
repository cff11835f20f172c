"""Born-digital conversion benchmark: one-page Office documents to PDF/A-2b, files per minute and
peak memory, through the warm converter (one LibreOffice kept running per worker, unoserver) and,
for comparison, one ``soffice`` per file.

Makes ``--files`` one-page documents (Word .docx with Chinese text, every fifth an Excel .xlsx)
with python-docx and openpyxl, then converts them with ``--workers`` processes (one per core:
each is a worker with its own warm converter, as ``dangan worker`` processes are) through
``digitize.renditions.render_pdfa`` — the same call the pipeline makes, the result checked to be
PDF/A-2b. The first conversion of each worker (LibreOffice's start) is timed apart. Memory is the
peak of the resident set of each worker's converter (unoserver + LibreOffice), sampled every
0.2 s, summed over the workers. ``--cold N`` also converts N files one ``soffice`` each.

    .venv/bin/python bench/convert.py                         # 200 files, 2 workers, cold 10
    .venv/bin/python bench/convert.py --files 40 --cold 0     # quick look
"""

import argparse
import io
import os
import sys
import tempfile
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangan.settings")
os.environ.setdefault("DANGAN_DATA_DIR", tempfile.mkdtemp(prefix="dangan-bench-convert-"))


def document(index: int) -> tuple[str, bytes]:
    if index % 5 == 4:
        import openpyxl

        book = openpyxl.Workbook()
        book.active.append(["姓名", "公民身份号码", "养老金核定数额", "核定日期"])
        for row in range(12):
            book.active.append(
                [f"职工{index}-{row}", f"3209251943040{row:05d}", 2345.6 + row, "2026-12-01"]
            )
        out = io.BytesIO()
        book.save(out)
        return "XLSX", out.getvalue()
    import docx

    paper = docx.Document()
    paper.add_heading(f"关于第{index}号退休待遇核定的请示", 1)
    for line in range(6):
        paper.add_paragraph(
            "经审核，该同志符合国家规定的退休条件，同意自二〇二六年十二月起按月发放基本养老金。"
            f"（第{line + 1}段）"
        )
    out = io.BytesIO()
    paper.save(out)
    return "DOCX", out.getvalue()


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def work(indexes: list[int]) -> dict:
    """One worker: convert its share through its warm converter; times and peak memory."""
    import django

    django.setup()
    from django.conf import settings

    from dangan.digitize import renditions, warm_converter

    settings.DANGAN_CONVERTER = "warm"
    running = warm_converter.for_this_process(
        profile=renditions._profile() / "warm", soffice=renditions.soffice()
    )
    peak, done = [0], threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], sum(_rss_kb(pid) for pid in running.pids()))
            time.sleep(0.2)

    threading.Thread(target=sample, daemon=True).start()
    made = [document(i) for i in indexes]
    started = time.monotonic()
    renditions.render_pdfa(made[0][1], format_name=made[0][0])
    first = time.monotonic() - started
    rest = time.monotonic()
    for kind, data in made[1:]:
        renditions.render_pdfa(data, format_name=kind)
    warm_seconds = time.monotonic() - rest
    done.set()
    time.sleep(0.3)
    running.stop()
    return {"first": first, "warm": warm_seconds, "files": len(made), "peak_kb": peak[0]}


def cold(count: int) -> float:
    import django

    django.setup()
    from django.conf import settings

    from dangan.digitize import renditions

    settings.DANGAN_CONVERTER = "soffice"
    made = [document(i) for i in range(count)]
    started = time.monotonic()
    for kind, data in made:
        renditions.render_pdfa(data, format_name=kind)
    return time.monotonic() - started


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cold", type=int, default=10, help="files converted one soffice each")
    args = parser.parse_args()
    shares = [list(range(w, args.files, args.workers)) for w in range(args.workers)]
    load_before = os.getloadavg()[0]
    wall = time.monotonic()
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(work, shares))
    wall = time.monotonic() - wall
    files = sum(r["files"] for r in results)
    warm_rate = sum((r["files"] - 1) / r["warm"] for r in results) * 60
    print(f"load average (1 min) before {load_before:.1f}, after {os.getloadavg()[0]:.1f}")
    each = ", ".join(str(round(r["peak_kb"] / 1024)) for r in results)
    print(
        f"{files} files, {args.workers} workers: {files / wall * 60:.1f} files/min overall "
        f"({wall:.1f} s, LibreOffice's start included); warm {warm_rate:.1f} files/min; "
        f"first conversion {max(r['first'] for r in results):.1f} s; "
        f"peak memory {sum(r['peak_kb'] for r in results) / 1024:.0f} MB "
        f"({each} MB a worker)"
    )
    if args.cold:
        with ProcessPoolExecutor(1) as pool:
            seconds = pool.submit(cold, args.cold).result()
        print(f"cold: {args.cold} files one soffice each: {args.cold / seconds * 60:.1f} files/min")


if __name__ == "__main__":
    main()
