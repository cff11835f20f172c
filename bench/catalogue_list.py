"""Benchmark: the first page of the record list on a large catalogue, filter by filter, and a
page deep in it (page 10,000) by offset and by cursor; the same for the API's list of records
and for the audit trail (filled with a million entries first).

    .venv/bin/python bench/catalogue_list.py                      # 1,000,000 records, SQLite
    .venv/bin/python bench/catalogue_list.py --records 100000     # a quick check
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/catalogue_list.py

The catalogue is filled by a fast path (rows written with ``executemany``, not through the
services: numbering and audit are not what is measured here), into a fresh temporary data
directory unless ``--data-dir`` names one. Then each filter of the list is timed through the
selector ``browse_records(user, …)[:50]`` and through the real page (the test client, logged
in as an archivist with a grant on everything). A filter slower than the target gets its
SQLite query plan printed. Then page ``--deep`` (10,000) of the list, unfiltered and for one
category, by offset (``?page=N`` alone, as before cursors) and by cursor (the "next page" link's
``?cursor=``), through the selector and through the page. See ``bench/README.md``.
"""

import argparse
import base64
import datetime
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

TARGET_MS = 100
CATEGORY_SHARE = {  # category code: share of the records, roughly as the bureau holds them
    "YB": 22,
    "TX": 14,
    "CXJM": 16,
    "SYTG": 10,
    "KG": 8,
    "JGSY": 6,
    "GBRS": 5,
    "HXDX": 4,
    "WS": 8,
    "QYCB": 3,
    "JX": 2,
    "ZC": 2,
}
NO_PERSON = {"WS", "QYCB", "JX"}
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
)
GIVEN = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁海峰国志红兵林东文俊晨浩宇"
    "芳娟敏静丽艳娜秀英玲霞燕萍梅琳雪慧婷"
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--persons", type=int, default=None, help="default: 30%% of the records")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data-dir",
        default=None,
        help="reuse a filled data directory (skips filling when it has records)",
    )
    parser.add_argument("--deep", type=int, default=10_000, help="the deep page's number")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument(
        "--deep-only", action="store_true", help="time the deep pages alone (not each filter)"
    )
    return parser.parse_args()


def setup_django(data_dir):
    os.environ["DANGAN_DATA_DIR"] = data_dir
    Path(data_dir, "static").mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dangan.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def _rows_template(model, now):
    """Column names and the database value of each column's default, for raw inserts."""
    from django.db import connection

    columns, defaults = [], {}
    for f in model._meta.concrete_fields:
        if f.primary_key:
            continue
        columns.append(f.column)
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = now
        else:
            value = f.get_default()  # "" for a text column that is not nullable
        defaults[f.column] = f.get_db_prep_save(value, connection)
    return ["id", *columns], defaults


def _insert(model, rows, columns, defaults, batch=20_000):
    from django.db import connection, transaction

    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
    many_rows = connection.vendor == "postgresql"  # one statement per 1,000 rows, as bulk_create

    def write(cursor, buffer):
        if not many_rows:
            cursor.executemany(sql, buffer)
            return
        for start in range(0, len(buffer), 1000):
            part = buffer[start : start + 1000]
            values = ", ".join([f"({marks})"] * len(part))
            cursor.execute(
                f"INSERT INTO {table} ({names}) VALUES {values}", [v for r in part for v in r]
            )

    buffer = []
    with transaction.atomic(), connection.cursor() as cursor:
        for row in rows:
            buffer.append([row.get(c, defaults.get(c)) for c in columns])
            if len(buffer) >= batch:
                write(cursor, buffer)
                buffer = []
        if buffer:
            write(cursor, buffer)


def fill(records: int, persons: int, seed: int) -> None:
    from django.db import connection
    from stdnum.cn import ric

    from dangan.accounts.models import Secrecy, Unit
    from dangan.catalogue import archival_code
    from dangan.catalogue.models import Category, CodeCounter, Fonds, Record
    from dangan.people.models import Person, RecordPerson

    rng = random.Random(seed)
    now = datetime.datetime.now(datetime.UTC)
    fonds = Fonds.objects.get(code="A001")
    bureau = Unit.objects.get(code="BUREAU")
    second, _ = Fonds.objects.get_or_create(code="A002", defaults={"name": "县就业管理处"})
    categories = {c.code: c for c in Category.objects.all()}

    started = time.monotonic()
    columns, defaults = _rows_template(Person, now)
    numbers, people = set(), []
    while len(people) < persons:
        birth = datetime.date(1940, 1, 1) + datetime.timedelta(days=rng.randrange(23_000))
        sex = rng.choice("MF")
        body = (
            f"{rng.choice(['320925', '320925', '320981', '320902'])}{birth:%Y%m%d}"
            f"{rng.randrange(100):02d}{rng.randrange(1 if sex == 'M' else 0, 10, 2)}"
        )
        number = body + ric.calc_check_digit(body + "0")
        if number in numbers:
            continue
        numbers.add(number)
        name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, rng.choice([1, 2, 2, 2])))
        people.append(
            {
                "id": len(people) + 1,
                "id_number": number,
                "id_number_15": number[:6] + number[8:17],
                "name": name,
                "name_folded": name,
                "id_reversed": number[::-1],  # the ID-tail look-up's index
                "sex": sex,
                "birth_date": birth.isoformat(),
            }
        )
    _insert(Person, people, columns, defaults)
    print(f"  {persons:,} persons in {time.monotonic() - started:.1f} s", file=sys.stderr)

    started = time.monotonic()
    columns, defaults = _rows_template(Record, now)
    codes, weights = zip(*CATEGORY_SHARE.items(), strict=True)
    counters: dict[str, int] = {}
    prefixes: dict[tuple, str] = {}
    links = []

    def record_rows():
        for pk in range(1, records + 1):
            code = rng.choices(codes, weights)[0]
            category = categories[code]
            year = rng.randint(1980, 2025)
            retention = (
                rng.choice(["D30", "D10", "Y"]) if code == "WS" else category.default_retention
            )
            org = rng.choice(["BGS", "SBK", "JYK", "RSK"]) if code == "WS" else ""
            in_fonds = second if rng.random() < 0.1 else fonds
            values = {
                "fonds": in_fonds.code,
                "category": code,
                "class": category.class_code,
                "year": year,
                "retention": retention,
                "org": org,
            }
            key = (in_fonds.code, code, year, retention, org)
            prefix = prefixes.get(key) or prefixes.setdefault(
                key, archival_code.render(category.code_template, values, None)
            )
            sequence = counters[prefix] = counters.get(prefix, 0) + 1
            person = people[rng.randrange(persons)] if code not in NO_PERSON else None
            if person:
                links.append(
                    {
                        "id": len(links) + 1,
                        "record_id": pk,
                        "person_id": person["id"],
                        "role": "subject",
                    }
                )
            roll = rng.random()
            secrecy = (
                Secrecy.SECRET
                if roll < 0.03
                else Secrecy.PUBLIC
                if roll < 0.1
                else Secrecy.INTERNAL
            )
            openness = (
                "open"
                if secrecy == Secrecy.PUBLIC
                else rng.choices(["controlled", "unreviewed", "delayed"], [75, 20, 5])[0]
            )
            date = datetime.date(year, rng.randint(1, 12), rng.randint(1, 28))
            title = (
                f"{person['name']}{category.name}"
                if person
                else f"关于{year}年度{category.name}工作的通知"
            )
            yield {
                "id": pk,
                "fonds_id": in_fonds.pk,
                "category_id": category.pk,
                "unit_id": bureau.pk,
                "level": category.level,
                "state": "filed",
                "archival_code": prefix.replace("#", f"{sequence:04d}"),
                "code_prefix": prefix,
                "sequence": sequence,
                "year": year,
                "retention": retention,
                "org_code": org,
                "title": title,
                "date": date.isoformat(),
                "responsible": "建湖县人力资源和社会保障局",
                "secrecy": int(secrecy),
                "openness": openness,
                "page_count": rng.randint(1, 90),
                "legacy_number": (
                    f"退{year % 100:02d}-{rng.randrange(10_000):04d}" if rng.random() < 0.4 else ""
                ),
                "box_number": f"{code}-{year}-{rng.randint(1, 80):03d}",
                "metadata": "{}",
            }

    _insert(Record, record_rows(), columns, defaults)
    print(f"  {records:,} records in {time.monotonic() - started:.1f} s", file=sys.stderr)
    started = time.monotonic()
    columns, defaults = _rows_template(RecordPerson, now)
    _insert(RecordPerson, links, columns, defaults)
    CodeCounter.objects.bulk_create(
        [CodeCounter(prefix=p, last=n) for p, n in counters.items()], batch_size=2000
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (Person, Record, RecordPerson):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))"
                )
            cursor.execute("ANALYZE")
    print(f"  {len(links):,} person links in {time.monotonic() - started:.1f} s", file=sys.stderr)
    assert Record.objects.count() == records


def bench_user():
    from dangan.accounts.models import Role, Secrecy, User
    from dangan.accounts.services import create_user

    user = User.objects.filter(username="bench_archivist").first()
    return user or create_user(
        actor=None,
        username="bench_archivist",
        password="bench pass 42",
        role=Role.ARCHIVIST,
        grants=[{"max_secrecy": Secrecy.SECRET}],
    )


def filters():
    """(label, browse_records keyword arguments) for each filter of the list page."""
    from dangan.catalogue.models import Category, Fonds, Record
    from dangan.people.models import Person

    tx = Category.objects.get(code="TX")
    some = Record.objects.filter(category=tx).order_by("id")[1000]
    person = Person.objects.order_by("id")[len("bench") * 997 % Person.objects.count()]
    legacy = (
        Record.objects.exclude(legacy_number="")
        .order_by("id")
        .values_list("legacy_number", flat=True)[500]
    )
    return [
        ("default (no filter)", {}),
        ("category TX", {"category": tx.pk}),
        ("category TX + year", {"category": tx.pk, "year": some.year}),
        ("fonds A002 (10%)", {"fonds": Fonds.objects.get(code="A002").pk}),
        ("retention D30", {"retention": "D30"}),
        ("openness open", {"openness": "open"}),
        ("q = person name", {"q": person.name}),
        ("q = ID tail (6)", {"q": person.id_number[-6:]}),
        ("q = archival code prefix", {"q": some.code_prefix.rstrip("#").rstrip("-")}),
        ("q = legacy number", {"q": legacy}),
    ]


def _timed(function, runs):
    function()  # warm the caches once; a list page is seldom the first query of the day
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), max(times)


def explain(queryset) -> str:
    from django.db import connection

    sql, params = queryset.query.sql_with_params()
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        return "\n".join("    " + " ".join(str(c) for c in row) for row in cursor.fetchall())


def measure(runs: int) -> list[dict]:
    from django.test import Client
    from django.urls import NoReverseMatch, reverse

    from dangan.catalogue.selectors import browse_records

    user = bench_user()
    try:
        url = reverse("catalogue:record-list")
    except NoReverseMatch:
        url = None
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    results = []
    for label, kwargs in filters():

        def select(kwargs=kwargs):
            return list(browse_records(user, **kwargs)[:50])

        found = len(select())
        p50, worst = _timed(select, runs)
        row = {"filter": label, "rows": found, "selector_p50": p50, "selector_max": worst}
        if url:

            def page(kwargs=kwargs):
                response = client.get(url, kwargs)
                assert response.status_code == 200, response.status_code
                return response

            row["page_p50"], row["page_max"] = _timed(page, runs)
        results.append(row)
        if p50 > TARGET_MS or row.get("page_p50", 0) > TARGET_MS:
            row["plan"] = explain(browse_records(user, **kwargs)[:50])
    return results


def measure_deep(runs: int, number: int) -> list[dict]:
    """Page ``number`` of the list by offset and by cursor, selector and page, beside page 1."""
    from django.test import Client
    from django.urls import reverse

    from dangan.catalogue.models import Category
    from dangan.catalogue.selectors import browse_records
    from dangan.catalogue.views import PAGE_SIZE
    from dangan.core import keyset

    user = bench_user()
    client = Client(SERVER_NAME="localhost")
    client.force_login(user)
    url = reverse("catalogue:record-list")
    results = []
    for label, kwargs in [
        ("default (no filter)", {}),
        ("category TX", {"category": Category.objects.get(code="TX").pk}),
    ]:
        records = browse_records(user, **kwargs)
        order = keyset.order_of(records)
        shown = min(number, records.count() // PAGE_SIZE)  # one category has fewer pages
        start = (shown - 1) * PAGE_SIZE
        before = records.order_by(*order)[start - 1 : start].get()  # the row the link follows
        cursor = keyset.encode(order, keyset.key_of(before, order), False)
        params = {k: str(v) for k, v in kwargs.items()}

        def by_offset(records=records, start=start):
            return list(records[start : start + PAGE_SIZE + 1])

        def by_cursor(records=records, cursor=cursor):
            return keyset.page(records, size=PAGE_SIZE, cursor=cursor).rows

        def first(records=records):
            return keyset.page(records, size=PAGE_SIZE).rows

        assert [r.pk for r in by_offset()][:PAGE_SIZE] == [r.pk for r in by_cursor()]
        row = {"filter": label, "page": shown}
        for name, function in [("first", first), ("offset", by_offset), ("cursor", by_cursor)]:
            row[f"selector_{name}"] = _timed(function, runs)[0]
        for name, query in [
            ("first", params),
            ("offset", {**params, "page": shown}),
            ("cursor", {**params, "cursor": cursor, "page": shown}),
        ]:

            def page(query=query):
                response = client.get(url, query)
                assert response.status_code == 200, response.status_code

            row[f"page_{name}"] = _timed(page, runs)[0]
        results.append(row)
        # The API's list of the same records, by a cursor in the API's own order (its
        # ``next`` link's), pointing at the same depth.
        if "category" in kwargs:  # the API names a category by its code
            params = {"category": Category.objects.get(pk=kwargs["category"]).code}
        first_answer = client.get("/api/v1/records/", {**params, "limit": PAGE_SIZE}).json()
        link = first_answer["next"].split("cursor=")[1].split("&")[0]
        api_order = json.loads(base64.urlsafe_b64decode(link + "=" * (-len(link) % 4)))["o"]
        api_before = records.order_by(*api_order)[start - 1 : start].get()
        api_cursor = keyset.encode(api_order, keyset.key_of(api_before, api_order), False)
        api = {"filter": f"API, {label}", "page": shown}
        for name, query in [
            ("first", {**params, "limit": PAGE_SIZE}),
            ("offset", {**params, "limit": PAGE_SIZE, "offset": start}),
            ("cursor", {**params, "limit": PAGE_SIZE, "cursor": api_cursor}),
        ]:

            def answer(query=query):
                response = client.get("/api/v1/records/", query)
                assert response.status_code == 200, response.status_code

            api[f"page_{name}"] = _timed(answer, runs)[0]
        results.append(api)
    return results


def fill_audit(events: int) -> None:
    """``events`` audit entries, by one INSERT … SELECT (the chain's digests are not what is
    measured here: a filled trail does not verify)."""
    from django.db import connection, transaction

    columns = (
        "at, actor_name, action, object_type, object_id, object_repr, previous_digest, digest, "
        "chain"
    )
    if connection.vendor == "postgresql":
        sql = (
            f"INSERT INTO audit_auditevent ({columns}) SELECT now() - n * interval '1 second', "
            "'bench_archivist', 'read', 'catalogue.record', n::text, '档案 ' || n, '', "
            "md5(n::text) || md5('b' || n::text), 1 + n %% 8 FROM generate_series(1, %s) n"
        )
    else:
        sql = (
            "WITH RECURSIVE n(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM n WHERE n < %s) "
            f"INSERT INTO audit_auditevent ({columns}) SELECT datetime('now', '-' || n || ' "
            "seconds'), 'bench_archivist', 'read', 'catalogue.record', n, '档案 ' || n, '', "
            "printf('%%064d', n), 1 + n %% 8 FROM n"
        )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [events])
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE audit_auditevent")


def measure_deep_trail(runs: int, number: int) -> dict:
    """Page ``number`` of the audit trail (the auditor's page, newest first), by offset and
    by cursor, beside page 1; the trail filled first to reach that page."""
    from django.test import Client
    from django.urls import reverse

    from dangan.accounts.models import Role, User
    from dangan.accounts.services import create_user
    from dangan.audit.models import AuditEvent
    from dangan.audit.selectors import audit_trail
    from dangan.audit.views import PAGE_SIZE
    from dangan.core import keyset

    auditor = User.objects.filter(username="bench_auditor").first() or create_user(
        actor=None, username="bench_auditor", password="bench pass 42", role=Role.AUDITOR
    )
    wanted = number * PAGE_SIZE + 1000
    have = AuditEvent.objects.count()
    if have < wanted:
        started = time.monotonic()
        fill_audit(wanted - have)
        print(f"  {wanted - have:,} audit entries in {time.monotonic() - started:.1f} s")
    events = audit_trail(auditor).select_related(None)
    order = keyset.order_of(events)
    start = (number - 1) * PAGE_SIZE
    before = events.order_by(*order)[start - 1 : start].get()
    cursor = keyset.encode(order, keyset.key_of(before, order), False)
    client = Client(SERVER_NAME="localhost")
    client.force_login(auditor)
    url = reverse("audit:trail")
    row = {"filter": f"audit trail ({AuditEvent.objects.count():,})", "page": number}
    for name, function in [
        ("first", lambda: keyset.page(events, size=PAGE_SIZE).rows),
        ("offset", lambda: list(events[start : start + PAGE_SIZE + 1])),
        ("cursor", lambda: keyset.page(events, size=PAGE_SIZE, cursor=cursor).rows),
    ]:
        row[f"selector_{name}"] = _timed(function, runs)[0]
    for name, query in [
        ("first", {}),
        ("offset", {"page": number}),
        ("cursor", {"cursor": cursor, "page": number}),
    ]:

        def page(query=query):
            response = client.get(url, query)
            assert response.status_code == 200, response.status_code

        row[f"page_{name}"] = _timed(page, runs)[0]
    return row


def report_deep(results, number, records, vendor):
    print(
        f"\nA deep page of the record list (up to page {number:,}), {records:,} records, "
        f"{vendor}, p50 ms: page 1 / page N by offset / page N by cursor"
    )
    print(f"{'filter':28} {'N':>6} {'selector':>26} {'page':>26}")
    for row in results:
        selector = [row.get(f"selector_{k}", float("nan")) for k in ("first", "offset", "cursor")]
        page = [row[f"page_{k}"] for k in ("first", "offset", "cursor")]
        print(
            f"{row['filter']:28} {row['page']:>6} "
            + " ".join(f"{v:>8.1f}" for v in selector)
            + " "
            + " ".join(f"{v:>8.1f}" for v in page)
        )


def report(results, records, vendor):
    has_page = "page_p50" in results[0]
    print(
        f"\nFirst page (50 rows) of the record list, {records:,} records, {vendor}, "
        f"p50 / max ms over the runs; target {TARGET_MS} ms"
    )
    header = f"{'filter':28} {'rows':>4} {'selector p50':>12} {'max':>8}"
    if has_page:
        header += f" {'page p50':>10} {'max':>8}"
    print(header)
    for row in results:
        line = (
            f"{row['filter']:28} {row['rows']:>4} {row['selector_p50']:>12.1f} "
            f"{row['selector_max']:>8.1f}"
        )
        if has_page:
            line += f" {row['page_p50']:>10.1f} {row['page_max']:>8.1f}"
        print(
            line
            + ("  SLOW" if max(row["selector_p50"], row.get("page_p50", 0)) > TARGET_MS else "")
        )
    if not has_page:
        print("(no catalogue:record-list view yet: selector only)")
    for row in results:
        if "plan" in row:
            print(f"\nPlan of “{row['filter']}”:\n{row['plan']}")


def main():
    args = parse_args()
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="dangan-bench-")
    setup_django(data_dir)
    from django.db import connection

    from dangan.catalogue.models import Record

    if not Record.objects.exists():
        print(f"Filling {data_dir} ({connection.vendor}) …", file=sys.stderr)
        fill(args.records, args.persons or max(args.records * 3 // 10, 1000), args.seed)
    records = Record.objects.count()
    results = [] if args.deep_only else measure(args.runs)
    if results:
        report(results, records, connection.vendor)
    deep = []
    if records >= args.deep * 50:
        deep = measure_deep(args.runs, args.deep)
        deep.append(measure_deep_trail(args.runs, args.deep))
        report_deep(deep, args.deep, records, connection.vendor)
    if args.json:
        print(json.dumps([{k: v for k, v in r.items() if k != "plan"} for r in results] + deep))


if __name__ == "__main__":
    main()
