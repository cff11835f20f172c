"""Search backends: one interface (``base.SearchBackend``), one implementation per engine.

``get_backend()`` picks the engine named by the ``DANGAN_SEARCH_BACKEND`` setting (a dotted
path to a ``SearchBackend`` class), or by default the one that matches the database: SQLite
FTS5 or PostgreSQL full text. Callers never name an engine, so an OpenSearch backend is one
more class here and one setting.
"""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.utils.module_loading import import_string

from .base import SearchBackend

BY_VENDOR = {
    "sqlite": "dangan.search.backends.sqlite_fts.SqliteFtsBackend",
    "postgresql": "dangan.search.backends.postgres.PostgresBackend",
}


def get_backend(using=None) -> SearchBackend:
    conn = using or connection
    path = getattr(settings, "DANGAN_SEARCH_BACKEND", "") or BY_VENDOR.get(conn.vendor)
    if not path:
        raise ImproperlyConfigured(
            f"No search backend for the {conn.vendor} database: set DANGAN_SEARCH_BACKEND."
        )
    return import_string(path)(conn)
