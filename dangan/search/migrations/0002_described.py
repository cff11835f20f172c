"""The description's own index: on SQLite the FTS5 table ``search_described`` (built from the
entries at once), on PostgreSQL the tsvector ``described`` and narrow rows (its entries lose
their stamp, so ``dangan reindex --pending`` writes them again).
"""

from django.db import migrations


def update(apps, schema_editor):
    from dangan.search.backends import get_backend

    get_backend(schema_editor.connection).ensure_schema()


class Migration(migrations.Migration):
    dependencies = [("search", "0001_search_index")]
    operations = [migrations.RunPython(update, migrations.RunPython.noop, elidable=False)]
