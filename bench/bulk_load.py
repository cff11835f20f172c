"""The fast path's fill on PostgreSQL: COPY, with triggers and secondary indexes off.

``catalogue_list.fill`` and ``search.fill_pages`` write their rows through
``catalogue_list._insert`` (multi-row INSERTs, ~30,000 records a minute on PostgreSQL). Inside
``bulk_load()`` that writer is ``copy_rows`` instead, no trigger fires and the tables' secondary
indexes and unique constraints are built once at the end, which fills a million records with
their pages in a few minutes. ``bench/search.py`` and ``bench/province.py`` both fill this way.
"""

import contextlib
import sys
import time

#: The tables the fills write millions (or hundreds of thousands) of rows into.
BULK_TABLES = (
    "catalogue_record",
    "people_person",
    "people_recordperson",
    "content_blob",
    "content_page",
    "digitize_pageprocessing",
)


def copy_rows(model, rows, columns, defaults, batch=1_000_000):
    """``catalogue_list._insert`` on PostgreSQL: ``COPY … FROM STDIN``, a commit every ``batch``
    rows (one COPY of ten million rows would keep them all in one transaction)."""
    from django.db import connection, transaction

    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    rows = iter(rows)
    while True:
        written = 0
        with transaction.atomic(), connection.cursor() as cursor:
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row.get(c, defaults.get(c)) for c in columns])
                    written += 1
                    if written == batch:
                        break
        if written < batch:
            return


@contextlib.contextmanager
def bulk_load():
    """For a fill on PostgreSQL: rows go in by COPY with no trigger firing (neither the holdings
    counters nor the foreign-key checks: the fast path writes consistent rows) and without the
    secondary indexes, which are built afterwards (quicker than keeping them up row by row);
    then the holdings are counted once from the records. On SQLite it changes nothing."""
    import catalogue_list
    from django.db import connection, transaction

    from dangan.stats import holdings_triggers

    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid)"
            " FROM pg_constraint c WHERE c.contype = 'u' AND c.conrelid::regclass::text = ANY(%s)",
            [list(BULK_TABLES)],
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = ANY(%s)"
            " AND i.indexname NOT IN (SELECT conname FROM pg_constraint)",
            [list(BULK_TABLES)],
        )
        indexes = cursor.fetchall()
        for table, name, _definition in constraints:
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET session_replication_role = replica")
    plain, catalogue_list._insert = catalogue_list._insert, copy_rows
    try:
        yield
    finally:
        catalogue_list._insert = plain
        started = time.monotonic()
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = DEFAULT")
            cursor.execute("SET maintenance_work_mem = '1GB'")
            for _name, definition in indexes:
                cursor.execute(definition)
            for table, name, definition in constraints:
                cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
            cursor.execute("RESET maintenance_work_mem")
            with transaction.atomic():
                holdings_triggers.rebuild(cursor)
            cursor.execute("ANALYZE")
        print(
            f"  {len(indexes) + len(constraints)} indexes built and holdings counted in "
            f"{time.monotonic() - started:.1f} s",
            file=sys.stderr,
        )
