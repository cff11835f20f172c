"""PostgreSQL: each entry keeps its folded text (``folded``), where a broad phrase's order is
checked. Entries written before keep an empty one and are checked as before (in ``tsv``) until
``dangan reindex`` writes them again. On SQLite nothing changes.
"""

from django.db import migrations


def update(apps, schema_editor):
    from dangan.search.backends import get_backend

    get_backend(schema_editor.connection).ensure_schema()


class Migration(migrations.Migration):
    dependencies = [("search", "0003_saved_searches")]
    operations = [migrations.RunPython(update, migrations.RunPython.noop, elidable=False)]
