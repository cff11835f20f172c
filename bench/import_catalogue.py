"""Benchmark of ``dangan import-catalogue``: a 100,000-row register into a fresh SQLite database.

    .venv/bin/python bench/import_catalogue.py [--rows 100000] [--keep]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/import_catalogue.py

(PostgreSQL: an empty database, made with ``createdb`` before each run.)

Writes a realistic unemployment-custody register (title row, header variants, valid ID numbers
with check digits, some 15-digit and full-width, some wrong check digits, mixed date styles,
repeated rows, a totals row) to a temporary directory, migrates a fresh database there, imports
the register and prints rows per second. A second run of the same file (all unchanged) is timed
too. Target: at least 2,000 rows/s on a 2-core machine.
"""

import argparse
import datetime
import os
import random
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path


def id_number(rng: random.Random, birth: datetime.date, sex: str) -> str:
    from stdnum.cn import ric

    region = rng.choice(["320925", "320981", "320902"])
    order = rng.randrange(0, 99) * 10 + rng.randrange(0, 10, 2) + (1 if sex == "M" else 0)
    body = f"{region}{birth:%Y%m%d}{order:03d}"
    return body + ric.calc_check_digit(body + "0")


def date_text(rng: random.Random, day: datetime.date):
    style = rng.randrange(6)
    return [
        day,
        f"{day.year}.{day.month:02d}",
        f"{day.year}年{day.month}月",
        f"{day:%Y%m%d}",
        f"{day.year}-{day.month}-{day.day}",
        f"{day:%Y-%m-%d}",
    ][style]


def write_register(path: Path, rows: int, seed: int = 7) -> dict:
    """The register, and what it holds: {"bad": n, "repeated": n}."""
    import openpyxl

    rng = random.Random(seed)
    surnames = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蔣"
    given = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红德玉凤學萬"
    units = [
        "建湖县第二轻工业公司",
        "近湖镇农具厂",
        "建湖县电机厂",
        "上冈镇砖瓦厂",
        "建湖县粮食局",
        "冈东镇供销社",
        "颜单镇卫生院",
    ]
    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("托管档案")
    sheet.append(["失业人员档案托管花名册"])
    sheet.append(
        [
            "序号",
            "姓 名",
            "性别",
            "公民身份号码",
            "出生日期",
            "原工作单位",
            "托管日期",
            "档案编号",
            "盒号",
            "备注",
        ]
    )
    bad = repeated = 0
    previous = None
    for n in range(1, rows + 1):
        if previous is not None and rng.random() < 0.002:
            sheet.append(previous)  # the same row entered twice
            repeated += 1
            continue
        sex = rng.choice("MF")
        birth = datetime.date(1935, 1, 1) + datetime.timedelta(days=rng.randrange(0, 30 * 365))
        number = id_number(rng, birth, sex)
        kind = rng.random()
        if kind < 0.05:
            number = number[:6] + number[8:17]  # the old 15-digit form
        elif kind < 0.07:
            number = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
        elif kind < 0.08:
            last = "0" if number[-1] != "0" else "1"
            number = number[:-1] + last  # a mistyped check digit
            bad += 1
        custody = birth.replace(day=1) + datetime.timedelta(days=rng.randrange(18 * 365, 40 * 365))
        row = [
            n,
            rng.choice(surnames) + "".join(rng.choices(given, k=rng.choice([1, 2]))),
            "男" if sex == "M" else "女",
            number,
            date_text(rng, birth),
            rng.choice(units),
            date_text(rng, custody),
            f"SYTG-{n:06d}",
            f"{(n - 1) // 50 + 1:04d}",
            None,
        ]
        sheet.append(row)
        previous = row
    sheet.append(["共计", f"{rows}人"])
    workbook.save(path)
    return {"bad": bad, "repeated": repeated}


def _server_cpu_ns() -> int:
    """CPU nanoseconds of this connection's PostgreSQL server process so far (0 on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0
    connection.ensure_connection()
    try:
        with open(f"/proc/{connection.connection.info.backend_pid}/schedstat") as stat:
            return int(stat.read().split()[0])
    except OSError:
        return 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the import")
    parser.add_argument("--once", action="store_true", help="skip the timed re-import")
    parser.add_argument(
        "--inline", action="store_true", help="read the sheet in this process (no read-ahead)"
    )
    args = parser.parse_args(argv)

    directory = Path(tempfile.mkdtemp(prefix="dangan-bench-"))
    os.environ["DANGAN_DATA_DIR"] = str(directory)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangan.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from dangan.catalogue.models import Category, Fonds, Record
    from dangan.intake.services import import_register

    register = directory / "register.xlsx"
    started = time.monotonic()
    facts = write_register(register, args.rows)
    print(f"wrote {args.rows} rows ({facts}) in {time.monotonic() - started:.1f} s: {register}")

    category, fonds = Category.objects.get(code="SYTG"), Fonds.objects.get(code="A001")
    profile = None
    if args.profile:
        import cProfile

        # CPU time, not the clock: on a shared machine the clock charges the neighbours' work
        # to whatever function was running.
        profile = cProfile.Profile(time.process_time)
        profile.enable()
    import resource

    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    children = children.ru_utime + children.ru_stime
    server = _server_cpu_ns()
    started, cpu = time.monotonic(), time.process_time()
    report = import_register(
        actor=None,
        path=register,
        category=category,
        fonds=fonds,
        read_ahead=False if args.inline else None,
    )
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu
    # The read-ahead process (reading and checking the sheet on the other core) has ended.
    reader = resource.getrusage(resource.RUSAGE_CHILDREN)
    reader = reader.ru_utime + reader.ru_stime - children
    server = (_server_cpu_ns() - server) / 1e9
    if profile:
        import pstats

        profile.disable()
        order = os.environ.get("PROFILE_SORT", "cumulative")  # or tottime
        pstats.Stats(profile).sort_stats(order).print_stats(40)
    print(
        f"first import: {report.rows} rows in {seconds:.1f} s = {report.rows / seconds:,.0f} "
        f"rows/s; created {report.created}, errors {report.error_rows}, duplicates "
        f"{len(report.duplicates)}, skipped {len(report.skipped)}; records in the catalogue: "
        f"{Record.objects.count()}"
    )
    print(
        f"              CPU time of this process {cpu:.1f} s = {report.rows / cpu:,.0f} rows per "
        f"CPU-second ({cpu / report.rows * 1e6:,.0f} µs a row); of the reading process "
        f"{reader:.1f} s; of the database server process {server:.1f} s; error codes "
        f"{dict(Counter(e.code for e in report.errors))}"
    )
    if args.once:
        return
    started = time.monotonic()
    again = import_register(actor=None, path=register, category=category, fonds=fonds)
    seconds = time.monotonic() - started
    print(
        f"re-import:    {again.rows} rows in {seconds:.1f} s = {again.rows / seconds:,.0f} "
        f"rows/s; created {again.created}, unchanged {again.unchanged}"
    )
    if not args.keep:
        import shutil

        shutil.rmtree(directory, ignore_errors=True)


if __name__ == "__main__":
    main()
