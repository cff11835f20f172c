"""A chronicle (大事记) of 1,000 entries exported to PDF and DOCX (and Excel): seconds and peak
memory of each export.

    .venv/bin/python bench/compilation.py                  # 1,000 entries, SQLite
    .venv/bin/python bench/compilation.py --entries 200    # quick check
    .venv/bin/python bench/compilation.py --json
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_compilation \\
        .venv/bin/python bench/compilation.py

In a fresh data directory (temporary unless ``--data-dir``) it files ``--entries`` documents
through ``catalogue.services.create_records`` and builds a chronicle through
``compilation.services.add_entry``: one entry a document, dated to the day, the month or the year
in turn, each citing its document and every tenth one a second; then a leader approves it (the
export prints the approved version). Each format is then exported by the operator's command,
``dangan compilation export ID --format F OUT``, in its own process: the seconds of the export
(Django's start-up left out; wall clock, and CPU seconds, which a loaded machine does not
inflate) and the process's peak resident memory (with what it held before
the export began). The PDF's pages are
counted, and its text checked to hold every cited archival code.

The same export runs in the worker as a background job (``compilation.jobs``); the command is
the same code without the queue. Run it on a quiet machine; the figures printed say the load.
"""

import argparse
import datetime
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TITLE = "县人力资源和社会保障局大事记（1992—2024）"
EVENTS = [
    "召开全县社会保险工作会议，部署年度扩面征缴任务",
    "印发城乡居民基本养老保险实施办法",
    "调整企业退休人员基本养老金",
    "开展劳动保障监察专项执法行动",
    "启动社会保障卡发放工作",
    "举办就业援助月专场招聘会",
    "完成机关事业单位养老保险制度改革参保登记",
]


def fill(entries: int, seed: int) -> int:
    """The chronicle's id, made through the services."""
    from django.apps import apps

    from dangan.accounts.models import Role, Secrecy
    from dangan.accounts.services import create_user
    from dangan.catalogue import bureau
    from dangan.catalogue.models import Category, Fonds
    from dangan.catalogue.services import RecordDraft, create_records
    from dangan.compilation import services

    bureau.install(apps)
    rng = random.Random(seed)
    editor = create_user(
        actor=None,
        username="bench-editor",
        password="bench horse battery 9",
        role=Role.ARCHIVIST,
        grants=[{"max_secrecy": Secrecy.SECRET}],
    )
    leader = create_user(
        actor=None,
        username="bench-leader",
        password="bench horse battery 9",
        role=Role.LEADER,
        grants=[{"max_secrecy": Secrecy.SECRET}],
    )
    fonds, category = Fonds.objects.order_by("code").first(), Category.objects.get(code="WS")
    days = sorted(
        datetime.date(1992, 1, 1) + datetime.timedelta(days=rng.randrange(33 * 365))
        for _ in range(entries)
    )
    drafts = [
        RecordDraft(
            fonds=fonds,
            category=category,
            values={
                "title": f"关于{rng.choice(EVENTS)}的通知",
                "year": day.year,
                "date": day,
                "retention": "Y",
                "responsible": "县人力资源和社会保障局",
                "org_code": "BGS",
                "doc_number": f"县人社发〔{day.year}〕{n + 1}号",
            },
            metadata={"doc_type": "通知"},
        )
        for n, day in enumerate(days)
    ]
    records = []
    for start in range(0, len(drafts), 500):
        records += create_records(actor=editor, drafts=drafts[start : start + 500])
    chronicle = services.create_compilation(actor=editor, kind="chronicle", title=TITLE)
    for n, record in enumerate(records):
        day = record.date
        date = [f"{day:%Y-%m-%d}", f"{day:%Y-%m}", f"{day:%Y}"][n % 3]
        cited = [record] + ([records[n - 1]] if n % 10 == 9 else [])
        services.add_entry(
            actor=editor,
            compilation=chronicle,
            records=cited,
            date=date,
            text=f"{record.responsible}{rng.choice(EVENTS)}（{record.doc_number}）。",
            note="据原件整理。" if n % 25 == 0 else "",
        )
    services.approve_version(
        actor=leader, version=services.submit_version(actor=editor, compilation=chronicle)
    )
    return chronicle.pk


def export(pk: int, format: str, out: Path, env: dict) -> dict:
    """One export by the operator's command, in a process of its own: the seconds of the export
    (Django's start-up left out), the process's peak resident memory, and the memory it had
    before the export began (Django and the app loaded)."""
    command = [sys.executable, __file__, "--child", format, str(pk), str(out)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return {**result, "bytes": out.stat().st_size}


def child(format: str, pk: str, out: str) -> None:
    import io
    import resource

    import django
    from django.core.management import call_command

    django.setup()
    from dangan.compilation.models import Compilation

    Compilation.objects.get(pk=pk)  # the database connection opened before the clock starts
    usage = resource.getrusage(resource.RUSAGE_SELF)
    before, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    started = time.monotonic()
    call_command("compilation", "export", pk, out, "--format", format, stdout=io.StringIO())
    seconds = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu
    print(
        json.dumps(
            {
                "seconds": round(seconds, 2),
                "cpu_seconds": round(cpu, 2),
                "peak_mb": round(peak / 1024, 1),
                "start_mb": round(before / 1024, 1),
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument(
        "--data-dir", help="keep the data here (default: a temporary directory); reused if filled"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(*args.child)
    data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="bench-compilation-"))
    os.environ["DANGAN_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangan.settings")
    import django
    from django.core.management import call_command

    django.setup()
    from django.db import connection

    from dangan.compilation.models import Compilation

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    kept = Compilation.objects.filter(kind="chronicle", title=TITLE).first()
    pk = kept.pk if kept else fill(args.entries, args.seed)  # a kept --data-dir: export again
    filled = time.monotonic() - started
    connection.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    results = {
        "entries": args.entries,
        "database": connection.vendor,
        "fill_seconds": round(filled, 1),
    }
    for format in ("pdf", "docx", "xlsx"):
        results[format] = export(pk, format, data_dir / f"chronicle.{format}", env)
    pdf = data_dir / "chronicle.pdf"
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    results["pdf"]["pages"] = int(
        next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:"))
    )
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    from dangan.catalogue.models import Record

    codes = list(Record.objects.values_list("archival_code", flat=True))
    results["pdf"]["codes_missing"] = sum(1 for c in codes if c not in text)
    results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    if not args.data_dir:
        shutil.rmtree(data_dir, ignore_errors=True)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
        return
    print(
        f"{args.entries} entries ({results['database']}), filled through the services in "
        f"{results['fill_seconds']} s"
    )
    for format in ("pdf", "docx", "xlsx"):
        r = results[format]
        extra = (
            f", {r['pages']} pages, {r['codes_missing']} codes missing" if format == "pdf" else ""
        )
        print(
            f"{format:5} {r['seconds']:7.1f} s ({r['cpu_seconds']:.1f} s CPU)  "
            f"peak {r['peak_mb']:7.1f} MB "
            f"(at start {r['start_mb']:.1f} MB)  "
            f"{r['bytes'] / 1e6:6.2f} MB{extra}"
        )
    print(f"load average {results['load_average']}")


if __name__ == "__main__":
    main()
