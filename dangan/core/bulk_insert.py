"""Inserting many new rows at once, for the paths that write tens of thousands of them.

Django's ``bulk_create`` builds its SQL value by value, which costs more than the database's own
work when a register import writes five rows for each line of a sheet. On SQLite, ``insert``
sends one prepared INSERT through ``executemany`` instead and derives the new primary keys from
the last one: the writing transaction holds SQLite's write lock (``BEGIN IMMEDIATE``), so the keys
of one statement are consecutive. On PostgreSQL the keys are drawn from the table's sequence
first and the rows go in by COPY (Django's ``bulk_create`` quoted every value in Python and cost
more than the server's work). Other databases use ``bulk_create``, which returns the keys.
``insert_rows`` skips the model instances altogether, for rows nobody reads back (audit events,
links between records and persons).
"""

import datetime

from django.db import connections, models, router, transaction
from django.utils import timezone

#: Fields whose Python value is not what the database stores: converted by Django itself.
_CONVERTED = (
    models.JSONField,
    models.DateField,  # DateTimeField too
    models.TimeField,
    models.DecimalField,
    models.UUIDField,
    models.DurationField,
    models.BinaryField,
)


def _reader(field, connection, now):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        # One moment for the whole insert, converted once, as Django's pre_save would set it.
        value = now if isinstance(field, models.DateTimeField) else now.date()
        stored = field.get_db_prep_save(value, connection)

        def read(obj):
            setattr(obj, field.attname, value)
            return stored

        return read
    attname = field.attname
    if isinstance(field, _CONVERTED):
        convert = field.get_db_prep_save
        if connection.vendor == "sqlite" and type(field) is models.DateField:
            # SQLite stores a date as its ISO text: what Django's conversion gives a plain date.
            def read_date(obj):
                value = getattr(obj, attname)
                if value is None or type(value) is datetime.date:
                    return None if value is None else value.isoformat()
                return convert(value, connection)

            return read_date
        if isinstance(field, models.DateTimeField):
            # A batch's records mostly share one moment (filed at): converted once.
            last = [object(), None]

            def read_moment(obj):
                value = getattr(obj, attname)
                if value is not last[0]:
                    last[0], last[1] = value, convert(value, connection)
                return last[1]

            return read_moment
        return lambda obj: convert(getattr(obj, attname), connection)
    return lambda obj: getattr(obj, attname)


def insert(model: type[models.Model], objects: list[models.Model], *, batch_size=1000) -> None:
    """Save new ``objects`` of ``model`` (no primary key yet) and set their primary keys."""
    if not objects:
        return
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor == "postgresql":
        _copy_objects(model, objects, connection)
        return
    if connection.vendor != "sqlite":
        model.objects.bulk_create(objects, batch_size=batch_size)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    readers = [_reader(f, connection, now) for f in fields]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    placeholders = ", ".join(["?"] * len(fields))
    sql = f'INSERT INTO "{meta.db_table}" ({columns}) VALUES ({placeholders})'
    with transaction.atomic(using=alias):
        connection.ensure_connection()
        raw = connection.connection.cursor()  # sqlite3's own: no per-value wrapping
        for start in range(0, len(objects), batch_size):
            chunk = objects[start : start + batch_size]
            raw.executemany(sql, [[read(obj) for read in readers] for obj in chunk])
            last = raw.execute("SELECT last_insert_rowid()").fetchone()[0]
            for offset, obj in enumerate(chunk):
                obj.pk = last - len(chunk) + 1 + offset
                obj._state.adding = False
                obj._state.db = alias


def insert_rows(model: type[models.Model], names: list[str], rows: list[tuple], *, batch_size=1000):
    """Insert plain ``rows`` (values in the order of the field ``names``) of ``model``, for rows
    nobody needs back as objects: no model instance is built. JSON fields take JSON text (or
    None), date-times aware date-times."""
    if not rows:
        return
    alias = router.db_for_write(model)
    connection = connections[alias]
    fields = [model._meta.get_field(name) for name in names]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(model._meta.db_table)
    # Inside a caller's transaction (an audit event is written in the change's) no savepoint:
    # it would cost two more round trips while the caller holds its locks.
    with transaction.atomic(using=alias, savepoint=False):
        if connection.vendor == "sqlite":
            timed = [i for i, f in enumerate(fields) if isinstance(f, models.DateTimeField)]
            adapted = {}  # a batch's rows mostly share one moment: convert each once
            if timed:
                rows = [list(row) for row in rows]
                for row in rows:
                    for i in timed:
                        value = row[i]
                        if value not in adapted:
                            adapted[value] = connection.ops.adapt_datetimefield_value(value)
                        row[i] = adapted[value]
            marks = ", ".join(["?"] * len(fields))
            connection.ensure_connection()
            raw = connection.connection.cursor()
            for start in range(0, len(rows), batch_size):
                raw.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                    rows[start : start + batch_size],
                )
            return
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                _copy(cursor, table, columns, rows)
            return
        marks = ", ".join("%s::jsonb" if isinstance(f, models.JSONField) else "%s" for f in fields)
        with connection.cursor() as cursor:
            for start in range(0, len(rows), batch_size):
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({marks})",
                    rows[start : start + batch_size],
                )


def _copy(cursor, table: str, columns: str, rows) -> None:
    """``rows`` into ``table`` by PostgreSQL's COPY: no statement to parse per row, and psycopg
    writes the values in C."""
    with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _copy_objects(model, objects, connection) -> None:
    """``insert`` on PostgreSQL: the primary keys drawn from the table's sequence first (in
    order, as the database would give them), then every row by COPY."""
    meta = model._meta
    pk = meta.pk
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    now = timezone.now()
    readers = [_reader(f, connection, now) for f in fields]
    quote = connection.ops.quote_name
    table = quote(meta.db_table)
    columns = ", ".join(quote(f.column) for f in [pk, *fields])
    with transaction.atomic(using=connection.alias, savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, pk.column, len(objects)],
        )
        keys = [row[0] for row in cursor.fetchall()]
        for obj, key in zip(objects, keys, strict=True):
            obj.pk = key
            obj._state.adding = False
            obj._state.db = connection.alias
        _copy(
            cursor, table, columns, ([obj.pk, *[read(obj) for read in readers]] for obj in objects)
        )
