"""Inserting many new rows at once, for the paths that write tens of thousands of them.

Django's ``bulk_create`` builds its SQL value by value, which costs more than the database's own
work when a register import writes five rows for each line of a sheet. On SQLite, ``insert``
sends one prepared INSERT through ``executemany`` instead and derives the new primary keys from
the last one: the writing transaction holds SQLite's write lock (``BEGIN IMMEDIATE``), so the keys
of one statement are consecutive. Other databases use ``bulk_create``, which returns the keys.
"""

from django.db import connections, models, router, transaction

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


def _reader(field, connection):
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)
    if isinstance(field, _CONVERTED):
        return lambda obj: field.get_db_prep_save(getattr(obj, field.attname), connection)
    attname = field.attname
    return lambda obj: getattr(obj, attname)


def insert(model: type[models.Model], objects: list[models.Model], *, batch_size=1000) -> None:
    """Save new ``objects`` of ``model`` (no primary key yet) and set their primary keys."""
    if not objects:
        return
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "sqlite":
        model.objects.bulk_create(objects, batch_size=batch_size)
        return
    meta = model._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    readers = [_reader(f, connection) for f in fields]
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
