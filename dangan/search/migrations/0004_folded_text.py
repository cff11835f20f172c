"""Re-applies the index's schema (``ensure_schema``); changes nothing else.

For a few minutes on 2026-12-08 this added a ``folded`` text column on PostgreSQL where a
broad phrase's order was checked; measured at a million records it was no faster than the
check in ``tsv`` (bench/README.md) and was taken out. A database that got the column keeps it
(empty by default, never read); the migration stays so that its history is the same everywhere.
"""

from django.db import migrations


def update(apps, schema_editor):
    from dangan.search.backends import get_backend

    get_backend(schema_editor.connection).ensure_schema()


class Migration(migrations.Migration):
    dependencies = [("search", "0003_saved_searches")]
    operations = [migrations.RunPython(update, migrations.RunPython.noop, elidable=False)]
