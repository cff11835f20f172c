"""The search index's tables, made by the backend of the database being migrated.

SQLite: ``search_document`` (the analyzer's terms) with the FTS5 table ``search_fts`` over it
and the triggers that keep them together; PostgreSQL: ``search_document`` with a ``tsvector``
and its GIN index. An existing catalogue is indexed afterwards by ``dangan reindex``.
"""

from django.db import migrations


def create(apps, schema_editor):
    from dangan.search.backends import get_backend

    get_backend(schema_editor.connection).ensure_schema()


def drop(apps, schema_editor):
    from dangan.search.backends import get_backend

    get_backend(schema_editor.connection).drop_schema()


class Migration(migrations.Migration):
    initial = True
    dependencies = [("catalogue", "0004_list_indexes"), ("digitize", "0001_initial")]
    operations = [migrations.RunPython(create, drop, elidable=False)]
