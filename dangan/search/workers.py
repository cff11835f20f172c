"""The processes that write the index side by side in a rebuild (``services.rebuild_index``).

Started with spawn, not fork (a process with threads — a server, a test's live server — cannot
be forked safely), so this module imports nothing of Django's at the top: a new process
unpickles these functions before Django is set up.
"""


def start(names: dict) -> None:
    """Set Django up in the new process, on the parent's databases (a test database has its
    own name)."""
    import django
    from django.conf import settings

    django.setup()
    for alias, name in names.items():
        settings.DATABASES[alias]["NAME"] = name


def index_range(bounds) -> int:
    from django.db import connections

    from .backends import get_backend
    from .services import _index_range

    try:
        return _index_range(bounds, backend=get_backend())
    finally:
        connections.close_all()  # a worker's connection would outlive the rebuild otherwise
