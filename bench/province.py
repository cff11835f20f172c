"""Benchmark: a province's catalogue in PostgreSQL — list and search latency per county and
across the province.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/province .venv/bin/python bench/province.py
    DATABASE_URL=… .venv/bin/python bench/province.py --records 500000      # a quick check
    DATABASE_URL=… .venv/bin/python bench/province.py --lists-only         # no search index
    (a database that already holds records is measured as it is, not filled again)

Fills the catalogue with ``bench/catalogue_list.py``'s fast path (default 10,000,000 records,
30 % as many persons), spreads the records over ``--counties`` counties (top-level units of
kind "county", each with its bureau), adds OCR-like page text for ``--pages`` pages
(``bench/search.py``'s filler) and builds the search index. On PostgreSQL the rows go in by
COPY with triggers off and the secondary indexes built afterwards (``bench/bulk_load.py``).
Then, for an archivist of one county (an "any unit" grant: tenancy keeps them in their county)
and for a provincial office (the same grant, no county), it times over ``--runs`` runs:

* the record list's first page, ``browse_records(user, …)[:50]``: no filter, a category, a
  person's name, an archival-code prefix;
* the search page's call, ``search.selectors.search(user, …)``: a name, a phrase of page text.

Prints p50 and p95 in ms per (user, query). Target: the list within 100 ms, search within 1 s.
"""

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bulk_load import bulk_load  # noqa: E402
from catalogue_list import fill, setup_django  # noqa: E402
from search import fill_pages  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000_000)
    parser.add_argument("--counties", type=int, default=100)
    parser.add_argument("--pages", type=int, default=None, help="default: 2%% of the records")
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--data-dir", default=None)
    parser.add_argument(
        "--lists-only",
        action="store_true",
        help="build no search index and time only the lists (the index of ten million records "
        "takes over an hour on two cores)",
    )
    parser.add_argument(
        "--build-search",
        action="store_true",
        help="on a database filled with --lists-only: add the pages (when it has none) and build "
        "the search index, then time the lists and the searches",
    )
    parser.add_argument("--json", action="store_true")
    return parser.parse_args()


def make_counties(count: int) -> list:
    """``count`` counties (top-level units of kind "county") with a bureau each."""
    from dangan.accounts.models import Unit

    bureaus = []
    for n in range(count):
        county, _ = Unit.objects.get_or_create(
            code=f"C{n:03d}", defaults={"name": f"第{n + 1}县", "kind": Unit.Kind.COUNTY}
        )
        bureau, _ = Unit.objects.get_or_create(
            code=f"C{n:03d}-B",
            defaults={"name": f"第{n + 1}县人社局", "kind": Unit.Kind.BUREAU, "parent": county},
        )
        bureaus.append(bureau)
    return bureaus


def spread_over(bureaus) -> None:
    """Make the fast path file each record under a county's bureau (by record id), as it writes
    them: cheaper than rewriting ten million rows afterwards."""
    import catalogue_list

    from dangan.catalogue.models import Record

    plain = catalogue_list._insert

    def insert(model, rows, columns, defaults, **kwargs):
        if model is Record:
            rows = ({**row, "unit_id": bureaus[row["id"] % len(bureaus)].pk} for row in rows)
        return plain(model, rows, columns, defaults, **kwargs)

    catalogue_list._insert = insert


def users(bureau):
    from dangan.accounts.models import Role, Secrecy, User
    from dangan.accounts.services import create_user

    def user(name, role, unit):
        return User.objects.filter(username=name).first() or create_user(
            actor=None,
            username=name,
            password="bench pass 42",
            role=role,
            unit=unit,
            grants=[{"max_secrecy": Secrecy.SECRET}],
        )

    return {
        "county archivist": user("bench_county_archivist", Role.ARCHIVIST, bureau),
        "provincial office": user("bench_province_leader", Role.LEADER, None),
    }


def _timed(function, runs):
    function()  # warm-up
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return round(statistics.median(times), 1), round(p95, 1)


def measure(people, runs, seed, *, searches=True):
    from dangan.catalogue.models import Category, Record
    from dangan.catalogue.selectors import browse_records
    from dangan.digitize.models import PageProcessing
    from dangan.people.models import Person
    from dangan.search.selectors import search

    rng = random.Random(seed)
    tx = Category.objects.get(code="TX")
    some = Record.objects.filter(unit=people["county archivist"].unit).order_by("id")[100]
    person = Person.objects.order_by("id")[rng.randrange(Person.objects.count())]
    text = PageProcessing.objects.order_by("id").values_list("text", flat=True).first() or "退休"
    phrase = "".join(c for c in text[20:25] if c.isalnum()) or "退休"
    lists = [
        ("list: no filter", {}),
        ("list: category TX", {"category": tx.pk}),
        ("list: q = name", {"q": person.name}),
        ("list: q = code prefix", {"q": some.code_prefix.rstrip("#").rstrip("-")}),
    ]
    searches = [("search: name", person.name), ("search: page phrase", phrase)] if searches else []
    rows = []
    for who, user in people.items():
        for label, filters in lists:
            p50, p95 = _timed(lambda u=user, f=filters: list(browse_records(u, **f)[:50]), runs)
            rows.append({"user": who, "query": label, "p50_ms": p50, "p95_ms": p95})
        for label, query in searches:
            p50, p95 = _timed(lambda u=user, q=query: search(u, q), runs)
            rows.append({"user": who, "query": label, "p50_ms": p50, "p95_ms": p95})
    return rows


def main():
    args = parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("Note: DATABASE_URL is not PostgreSQL; measuring SQLite.", file=sys.stderr)
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="dangan-province-")
    setup_django(data_dir)
    from django.db import connection

    from dangan.accounts.models import Unit
    from dangan.catalogue.models import Record
    from dangan.search.services import rebuild_index

    build = None
    if not Record.objects.exists():  # an already filled database is measured as it is
        print(f"Filling {args.records:,} records ({connection.vendor}) …", file=sys.stderr)
        started = time.monotonic()
        with bulk_load():
            spread_over(make_counties(args.counties))
            fill(args.records, max(args.records * 3 // 10, 1000), args.seed)
            if not args.lists_only:
                fill_pages(args.pages if args.pages is not None else args.records // 50, args.seed)
        print(f"  filled in {time.monotonic() - started:.0f} s", file=sys.stderr)
        if not args.lists_only:
            print("Building the index …", file=sys.stderr)
            build = rebuild_index(chunk=5000)
    elif args.build_search:
        from dangan.content.models import Page

        started = time.monotonic()
        if not Page.objects.exists():
            pages = args.pages if args.pages is not None else Record.objects.count() // 50
            print(f"Adding {pages:,} pages …", file=sys.stderr)
            fill_pages(pages, args.seed)
        print(f"Building the index ({time.monotonic() - started:.0f} s) …", file=sys.stderr)
        build = rebuild_index(chunk=5000)
    bureau = Unit.objects.filter(kind=Unit.Kind.BUREAU, parent__isnull=False).order_by("code")[7]
    rows = measure(users(bureau), args.runs, args.seed, searches=not args.lists_only)
    records = Record.objects.count()
    print(f"\n{records:,} records in {args.counties} counties ({connection.vendor})")
    if build:
        print(f"  index built at {build['records_per_second']:,} records/s")
    for row in rows:
        print(
            f"  {row['user']:<18} {row['query']:<24} "
            f"p50 {row['p50_ms']:>8} ms  p95 {row['p95_ms']:>8} ms"
        )
    if args.json:
        print(json.dumps({"vendor": connection.vendor, "records": records, "rows": rows}))


if __name__ == "__main__":
    main()
