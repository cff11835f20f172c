"""Reads that may go to the read replica, decided in this one place.

A PostgreSQL streaming standby lags the primary by a little. So only requests that never write
what they then read — GET requests of the search and statistics pages
(``DANGAN_REPLICA_NAMESPACES``) — read from it, and only the catalogue's tables: grants,
users, sessions and the audit trail are always read from the primary, so a revoked grant
takes effect at once. Every write goes to the primary. Without ``DATABASE_REPLICA_URL`` the
router does nothing.
"""

import contextlib
import contextvars

from django.conf import settings

REPLICA = "replica"
#: Apps whose tables a replica read may serve: records, persons, pages, the search index.
REPLICA_APPS = {"catalogue", "people", "content", "digitize", "search", "stats"}

_reading_replica = contextvars.ContextVar("dangan_reading_replica", default=False)


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


@contextlib.contextmanager
def replica_reads():
    """Inside this block, reads of the catalogue's tables go to the replica (if there is one)."""
    token = _reading_replica.set(True)
    try:
        yield
    finally:
        _reading_replica.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        if (
            _reading_replica.get()
            and model._meta.app_label in REPLICA_APPS
            and replica_configured()
        ):
            return REPLICA
        return "default"

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the replica is a copy of the same database

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == "default"


class ReplicaReadsMiddleware:
    """GET/HEAD requests to the namespaces in ``DANGAN_REPLICA_NAMESPACES`` read from the
    replica for the whole request, templates included."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = None
        request._dangan_replica_token = None
        try:
            response = self.get_response(request)
        finally:
            token = request._dangan_replica_token
            if token is not None:
                _reading_replica.reset(token)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if (
            request.method in ("GET", "HEAD")
            and match is not None
            and match.namespace in settings.DANGAN_REPLICA_NAMESPACES
            and replica_configured()
        ):
            request._dangan_replica_token = _reading_replica.set(True)
        return None
