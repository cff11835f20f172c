"""Benchmark: full-text search over a large catalogue with OCR'd pages.

    .venv/bin/python bench/search.py                      # 1,000,000 records, 200,000 pages
    .venv/bin/python bench/search.py --records 200000 --pages 40000
    .venv/bin/python bench/search.py --data-dir /tmp/b    # keep / reuse the data
    .venv/bin/python bench/search.py --data-dir /tmp/b --fill-only   # fill now, time later
    .venv/bin/python bench/search.py --data-dir /tmp/b --skip-build  # time the filled index again
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/search.py

Fills the catalogue with ``bench/catalogue_list.py``'s fast path (on PostgreSQL by COPY, see
``bench/bulk_load.py``), adds scanned pages with about 500 characters of OCR-like text each (forms,
names, ID numbers, employers, dates), builds the index with
``dangan.search.services.rebuild_index`` and prints the build rate and index size. Then it times
``dangan.search.selectors.search`` — the search page's own call, permission check, snippets and
audit included — for a mixed query set (names, ID tails and 15-digit numbers, phrases from page
text, legacy numbers, the same with a facet filter, and as a user with a grant on one category
only), and beside it a ``LIKE '%…%'`` scan over titles and page text of the same data, for the
ratio.
"""

import argparse
import datetime
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import catalogue_list  # noqa: E402
from bulk_load import bulk_load  # noqa: E402
from catalogue_list import _rows_template, fill, setup_django  # noqa: E402

TARGET_MS = {"sqlite": 50, "postgresql": 100}
PLACES = "建湖 盐城 阜宁 射阳 滨海 响水 东台 大丰 宝应 高邮 兴化 泰州 淮安 涟水 沭阳 宿迁".split()
TRADES = "纺织 化肥 农机 食品 服装 电机 印刷 水泥 酿酒 粮油 造纸 玻璃 机械 塑料 电子 建材".split()
KINDS = "厂 公司 合作社 供销社 站 社".split()
REASONS = ["企业改制", "合同期满", "企业破产", "经济性裁员", "个人原因辞职", "单位撤销"]
BUSINESS = [
    "失业登记",
    "失业保险金申领",
    "档案托管",
    "退休审批",
    "工伤认定",
    "社会保险关系转移",
    "再就业援助",
    "灵活就业登记",
]
FILLER = (
    "经审核，该同志材料齐全，符合有关规定，同意办理。特此证明。以上情况属实，如有不实，本人愿意"
    "承担相应责任。请相关部门予以协助。单位盖章。经办人签字。年月日。"
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--pages", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each query")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument("--skip-build", action="store_true", help="reuse the index as it is")
    parser.add_argument("--fill-only", action="store_true", help="fill the data (untimed) and stop")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--kinds",
        default="",
        help="only these query kinds (comma-separated, e.g. 'name,ID tail (6)')",
    )
    parser.add_argument(
        "--no-db-time",
        action="store_true",
        help="PostgreSQL: skip the database's own time (EXPLAIN ANALYZE of each statement)",
    )
    return parser.parse_args()


def _employer(rng):
    return f"{rng.choice(PLACES)}县{rng.choice(TRADES)}{rng.choice(KINDS)}"


def page_text(rng, person) -> str:
    """About 500 characters as OCR reads a form about ``person`` (name, ID number) or none."""
    parts = []
    while sum(map(len, parts)) < 480:
        roll = rng.random()
        if person and roll < 0.25:
            parts.append(
                f"{person['name']}，身份证号{person['id_number']}，"
                f"{person['birth_date'][:4]}年出生，原{_employer(rng)}职工。"
            )
        elif roll < 0.5:
            parts.append(
                f"于{rng.randint(1985, 2020)}年{rng.randint(1, 12)}月因{rng.choice(REASONS)}"
                f"与{_employer(rng)}解除劳动关系，申请办理{rng.choice(BUSINESS)}。"
            )
        elif roll < 0.7:
            parts.append(
                f"缴费基数{rng.randint(800, 9000)}元，累计缴费{rng.randint(1, 35)}年"
                f"{rng.randint(0, 11)}个月。"
            )
        else:
            start = rng.randrange(len(FILLER) - 30)
            parts.append(FILLER[start : start + rng.randint(15, 30)])
    return "".join(parts)[:520]


def fill_pages(pages: int, seed: int) -> None:
    """Scanned pages (blob, page, finished OCR) for random records, several pages each."""
    from django.db import connection

    from dangan.catalogue.models import Record
    from dangan.content.models import Blob, Page
    from dangan.digitize.models import PageProcessing
    from dangan.people.models import Person, RecordPerson

    rng = random.Random(seed + 7)
    now = datetime.datetime.now(datetime.UTC)
    started = time.monotonic()
    max_record = Record.objects.order_by("-pk").values_list("pk", flat=True).first()
    persons = dict(RecordPerson.objects.values_list("record_id", "person_id"))
    person_rows = {  # all of them: an IN list of 300,000 is too long for SQLite
        p["id"]: p for p in Person.objects.values("id", "name", "id_number", "birth_date")
    }
    for row in person_rows.values():
        row["birth_date"] = str(row["birth_date"])
    plan, record_id = [], 0
    while len(plan) < pages:
        record_id = rng.randrange(1, max_record + 1)
        for position in range(1, rng.randint(2, 8) + 1):
            plan.append((record_id, position))
    plan = list(dict.fromkeys(plan))[:pages]
    columns, defaults = _rows_template(Blob, now)
    catalogue_list._insert(
        Blob,
        (
            {
                "id": i + 1,
                "sha256": f"{i + 1:064x}",
                "sm3": "0" * 64,
                "size": 200_000,
                "mime": "image/tiff",
                "format_name": "TIFF",
            }
            for i in range(len(plan))
        ),
        columns,
        defaults,
    )
    columns, defaults = _rows_template(Page, now)
    catalogue_list._insert(
        Page,
        (
            {
                "id": i + 1,
                "record_id": record,
                "blob_id": i + 1,
                "position": position,
                "role": "original",
                "filename": f"{position:04d}.tif",
            }
            for i, (record, position) in enumerate(plan)
        ),
        columns,
        defaults,
    )
    columns, defaults = _rows_template(PageProcessing, now)

    def processing():
        for i, (record, _position) in enumerate(plan):
            person = person_rows.get(persons.get(record))
            yield {
                "id": i + 1,
                "page_id": i + 1,
                "state": "done",
                "engine": "rapidocr",
                "text": page_text(rng, person),
                "lines": "{}",
                "checks": "{}",
                "suggestions": "{}",
                "attempts": 1,
            }

    catalogue_list._insert(PageProcessing, processing(), columns, defaults)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Blob, Page, PageProcessing):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            cursor.execute("ANALYZE")
    print(f"  {len(plan):,} OCR'd pages in {time.monotonic() - started:.1f} s", file=sys.stderr)


def users():
    from dangan.accounts.models import Role, Secrecy, User
    from dangan.accounts.services import create_user
    from dangan.catalogue.models import Category

    def user(name, grants):
        return User.objects.filter(username=name).first() or create_user(
            actor=None, username=name, password="bench pass 42", role=Role.ARCHIVIST, grants=grants
        )

    everything = user("bench_archivist", [{"max_secrecy": Secrecy.SECRET}])
    custody = Category.objects.get(code="SYTG")
    one_category = user(
        "bench_custody_clerk", [{"category": custody, "max_secrecy": Secrecy.INTERNAL}]
    )
    return everything, one_category


def queries(rng, count_each):
    """(kind, query, filters) — a mixed set, drawn from the data itself."""
    from dangan.catalogue.models import Category, Record
    from dangan.digitize.models import PageProcessing
    from dangan.people.models import Person

    persons = list(Person.objects.order_by("?")[: count_each * 3].values("name", "id_number"))
    texts = list(
        PageProcessing.objects.order_by("?")[:count_each].values_list("text", "page__record__year")
    )
    legacy = list(
        Record.objects.exclude(legacy_number="")
        .order_by("?")[:count_each]
        .values_list("legacy_number", flat=True)
    )
    tx = Category.objects.get(code="TX").pk
    out = []
    for p in persons[:count_each]:
        out.append(("name", p["name"], {}))
    for p in persons[count_each : count_each * 2]:
        out.append(("ID tail (6)", p["id_number"][-6:], {}))
    for p in persons[count_each * 2 :]:
        out.append(("ID 15-digit", p["id_number"][:6] + p["id_number"][8:17], {}))
    for p in persons[count_each * 2 :]:  # digit runs: a person's and on pages (ID numbers)
        out.append(("ID tail (4)", p["id_number"][-4:], {}))
    for text, _year in texts:
        start = rng.randrange(max(1, len(text) - 8))
        phrase = "".join(c for c in text[start : start + rng.choice([4, 5, 6])] if c.isalnum())
        out.append(("phrase in pages", phrase, {}))
    for text, year in texts:
        start = rng.randrange(max(1, len(text) - 8))
        phrase = "".join(c for c in text[start : start + 4] if c.isalnum())
        out.append(("phrase + year filter", phrase, {"year": year}))
    for p in persons[:count_each]:
        out.append(("name + category filter", p["name"], {"category": tx}))
    for number in legacy:
        out.append(("legacy number", number, {}))
    return [q for q in out if q[1].strip()]


def _time(function):
    started = time.perf_counter()
    result = function()
    return (time.perf_counter() - started) * 1000, result


def _server_cpu_ns() -> int:
    """Nanoseconds of CPU the PostgreSQL server process of this connection has used (from
    /proc, when the server runs on this machine); 0 on SQLite or when it cannot be read."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0
    try:
        with open(f"/proc/{connection.connection.info.backend_pid}/schedstat") as stat:
            return int(stat.read().split()[0])
    except OSError:
        return 0


def _cpu_time(function):
    """Milliseconds of CPU the search used: this process's and, on PostgreSQL, its server
    process's. Unlike the clock, it does not grow when other programs share the machine."""
    started, server = time.process_time(), _server_cpu_ns()
    result = function()
    return (time.process_time() - started) * 1000 + (_server_cpu_ns() - server) / 1e6, result


def _db_ms(function):
    """Milliseconds the PostgreSQL server itself spent on the statements of ``function``: each
    SELECT it ran is run again under ``EXPLAIN (ANALYZE)`` and its execution and planning times
    added up. Less noisy than the clock on a shared machine (no network, no Python, no wait
    for a core between statements); the audit trail's writes are not counted."""
    from django.db import connection

    ran = []

    def collect(execute, sql, params, many, context):
        if not many and sql.lstrip().upper().startswith("SELECT"):
            ran.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(collect):
        function()
    total = 0.0
    with connection.cursor() as cursor:
        for sql, params in ran:
            cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            total += plan[0]["Execution Time"] + plan[0].get("Planning Time", 0.0)
    return total


def _percentile(values, share):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(share * (len(values) - 1))))]


def measure(args):
    from django.db import connection

    from dangan.search.selectors import search

    rng = random.Random(args.seed)
    everyone, clerk = users()
    mixed = queries(rng, 20)
    if args.kinds:
        mixed = [q for q in mixed if q[0] in args.kinds.split(",")]
    db_time = connection.vendor == "postgresql" and not args.no_db_time
    rows = []
    for who, user in (("all rights", everyone), ("one category", clerk)):
        for kind, query, filters in mixed:
            search(user, query, filters=filters)  # warm
            times, cpu = [], []
            for _ in range(args.runs):
                ms, results = _time(lambda: search(user, query, filters=filters))  # noqa: B023
                times.append(ms)
                cpu.append(_cpu_time(lambda: search(user, query, filters=filters))[0])  # noqa: B023
            rows.append(
                {
                    "user": who,
                    "kind": kind,
                    "query": query,
                    "ms": statistics.median(times),
                    "cpu_ms": statistics.median(cpu),
                    "db_ms": _db_ms(lambda: search(user, query, filters=filters))  # noqa: B023
                    if db_time
                    else None,
                    "total": results.total,
                    "capped": results.capped,
                }
            )
    like = []
    title_like = "SELECT count(*) FROM catalogue_record WHERE title LIKE %s"
    text_like = "SELECT count(*) FROM digitize_pageprocessing WHERE text LIKE %s"
    for kind, query, _filters in mixed[::6]:
        with connection.cursor() as cursor:
            ms, _ = _time(
                lambda: [  # noqa: B023
                    cursor.execute(title_like, [f"%{query}%"]),  # noqa: B023
                    cursor.fetchone(),
                    cursor.execute(text_like, [f"%{query}%"]),  # noqa: B023
                    cursor.fetchone(),
                ]
            )
        like.append({"kind": kind, "query": query, "ms": ms})
    return rows, like


def report(build, rows, like, vendor, records, pages):
    target = TARGET_MS.get(vendor, 100)
    print(f"\nSearch, {vendor}: {records:,} records, {pages:,} OCR'd pages")
    if build:
        size = (build["size_bytes"] or 0) / 2**20
        print(
            f"index build: {build['records']:,} records in {build['seconds']} s "
            f"= {build['records_per_second']:,} records/s "
            f"(analyze+load {build['analyze_and_load_seconds']} s, "
            f"index {build['index_seconds']} s); index size {size:,.0f} MB"
        )
    with_db = rows and rows[0]["db_ms"] is not None
    print(
        f"\n{'user':13} {'kind':24} {'n':>3} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}"
        f" {'CPU p95':>8}" + (f" {'DB p50':>8} {'DB p95':>8}" if with_db else "")
    )
    groups, cpus, dbs = {}, {}, {}
    for row in rows:
        groups.setdefault((row["user"], row["kind"]), []).append(row["ms"])
        cpus.setdefault((row["user"], row["kind"]), []).append(row["cpu_ms"])
        dbs.setdefault((row["user"], row["kind"]), []).append(row["db_ms"])
    for (who, kind), times in groups.items():
        db = dbs[who, kind]
        print(
            f"{who:13} {kind:24} {len(times):>3} {statistics.median(times):>8.1f} "
            f"{_percentile(times, 0.95):>8.1f} {max(times):>8.1f}"
            f" {_percentile(cpus[who, kind], 0.95):>8.1f}"
            + (f" {statistics.median(db):>8.1f} {_percentile(db, 0.95):>8.1f}" if with_db else "")
        )
    all_times = [row["ms"] for row in rows]
    p50, p95 = statistics.median(all_times), _percentile(all_times, 0.95)
    print(
        f"{'all':13} {'mixed':24} {len(all_times):>3} {p50:>8.1f} {p95:>8.1f} "
        f"{max(all_times):>8.1f}   target p95 < {target} ms: {'met' if p95 < target else 'MISSED'}"
    )
    cpu = [row["cpu_ms"] for row in rows]
    cpu_p50, cpu_p95 = statistics.median(cpu), _percentile(cpu, 0.95)
    print(
        f"{'all (CPU)':13} {'mixed':24} {len(cpu):>3} {cpu_p50:>8.1f} {cpu_p95:>8.1f} "
        f"{max(cpu):>8.1f}   CPU time (with the database server's), not the clock"
    )
    db_p95 = None
    if with_db:
        db = [row["db_ms"] for row in rows]
        db_p95 = _percentile(db, 0.95)
        print(
            f"{'all (DB)':13} {'mixed':24} {len(db):>3} {statistics.median(db):>8.1f} "
            f"{db_p95:>8.1f} {max(db):>8.1f}   the server's own time (EXPLAIN ANALYZE)"
        )
    like_p50 = statistics.median(row["ms"] for row in like)
    print(
        f"LIKE '%…%' over titles and page text: p50 {like_p50:.0f} ms over {len(like)} queries "
        f"→ search is {like_p50 / p50:.0f}× faster at the median"
    )
    slow = sorted(rows, key=lambda r: -r["ms"])[:5]
    print("slowest: " + "; ".join(f"{r['kind']} “{r['query']}” {r['ms']:.0f} ms" for r in slow))
    return {
        "p50_ms": p50,
        "p95_ms": p95,
        "cpu_p50_ms": cpu_p50,
        "cpu_p95_ms": cpu_p95,
        "db_p95_ms": db_p95,
        "like_p50_ms": like_p50,
        "build": build,
    }


def main():
    args = parse_args()
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="dangan-search-bench-")
    setup_django(data_dir)
    from django.db import connection

    from dangan.catalogue.models import Record
    from dangan.digitize.models import PageProcessing
    from dangan.search.services import rebuild_index

    if not PageProcessing.objects.exists():
        # On PostgreSQL by COPY, with triggers and secondary indexes off (``bulk_load.py``).
        with bulk_load():
            if not Record.objects.exists():
                print(f"Filling {data_dir} ({connection.vendor}) …", file=sys.stderr)
                fill(args.records, max(args.records * 3 // 10, 1000), args.seed)
            fill_pages(args.pages, args.seed)
    if args.fill_only:
        return
    build = None
    if not args.skip_build:
        print("Building the index …", file=sys.stderr)
        build = rebuild_index(chunk=5000)
    records, pages = Record.objects.count(), PageProcessing.objects.count()
    rows, like = measure(args)
    summary = report(build, rows, like, connection.vendor, records, pages)
    if args.json:
        print(json.dumps({"vendor": connection.vendor, **summary}, default=str))
    os.environ.pop("DANGAN_DATA_DIR", None)


if __name__ == "__main__":
    main()
