"""Health, readiness and metrics: for load balancers, service managers and Prometheus.

``/healthz`` says only that the process answers. ``/readyz`` tries each service the web server
needs and answers 503 when one fails; it names the services and "ok"/"fail", never an address,
a version or an error text (those go to the log). ``/metrics`` is for the monitoring server
alone: a bearer token (``DANGAN_METRICS_TOKEN``) or an address in ``DANGAN_METRICS_ALLOW``.
"""

import hmac
import logging
import uuid

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from dangan.security.clients import client_address

from . import metrics

log = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def _database(alias):
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache():
    key = f"dangan:ready:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=10)
    if cache.get(key) != "1":
        raise RuntimeError("the cache did not keep a value")
    cache.delete(key)


def _content_store():
    from dangan.content.stores import get_store

    get_store().exists("0" * 64)  # an answer either way means the store is reachable


def _queue():
    if settings.TASKS["default"]["BACKEND"].startswith("django_tasks_rq"):
        import django_rq

        django_rq.get_connection("default").ping()
    else:
        metrics.queue_depth()


def readiness() -> dict[str, bool]:
    """Each service the web server needs, and whether it answered."""
    checks = {"database": lambda: _database("default")}
    if "replica" in settings.DATABASES:
        checks["replica"] = lambda: _database("replica")
    checks.update({"cache": _cache, "content_store": _content_store, "queue": _queue})
    results = {}
    for name, check in checks.items():
        try:
            check()
            results[name] = True
        except Exception:
            log.exception("readiness: %s is not reachable", name)
            results[name] = False
    return results


@never_cache
@require_GET
def readyz(request):
    results = readiness()
    ready = all(results.values())
    return JsonResponse(
        {
            "status": "ok" if ready else "fail",
            "checks": {name: "ok" if ok else "fail" for name, ok in results.items()},
        },
        status=200 if ready else 503,
    )


def _may_scrape(request) -> bool:
    token = settings.DANGAN_METRICS_TOKEN
    header = request.META.get("HTTP_AUTHORIZATION", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    return client_address(request) in settings.DANGAN_METRICS_ALLOW


@never_cache
@require_GET
def metrics_view(request):
    if not _may_scrape(request):
        return HttpResponse(status=403)
    return HttpResponse(metrics.exposition(), content_type="text/plain; version=0.0.4")
