"""Prometheus metrics (scraped at ``/metrics``): requests, the work queue, OCR, checks, fixity.

Request counts and latencies are kept per web process (Prometheus scrapes each web server and
adds them up). Everything about the archive's work — queue depth, pages waiting, the OCR rate,
check and fixity failures — is read from the shared database and Redis at scrape time, so every
web server reports the same figures whichever one is asked.
"""

import datetime
import time

from django.conf import settings
from django.db.models import Count, Sum
from django.utils import timezone
from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import generate_latest

from dangan.alerts.services import observe_response

disable_created_metrics()  # no "_created" series beside every counter: half the scrape for nothing
#: The process's own registry: no default process/platform collectors, nothing global shared.
REGISTRY = CollectorRegistry(auto_describe=True)

REQUESTS = Counter(
    "dangan_http_requests",
    "HTTP requests answered, by view, method and status.",
    ["view", "method", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "dangan_http_request_duration_seconds",
    "Time to answer an HTTP request, by view.",
    ["view"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1, 2, 5, 10, 30),
    registry=REGISTRY,
)
#: Minutes over which the OCR rate is averaged.
OCR_RATE_MINUTES = 5


class RequestMetricsMiddleware:
    """First in the chain: counts and times every request under its URL name (never its path,
    which would hold record numbers and make a series per record)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or "unnamed") if match else "unmatched"
        seconds = time.perf_counter() - started
        LATENCY.labels(view).observe(seconds)
        observe_response(view=view, seconds=seconds, at=time.time())
        REQUESTS.labels(view, request.method, str(response.status_code)).inc()
        return response


def queue_depth() -> dict[str, int]:
    """Tasks waiting to be run, per queue, in whichever backend the queue lives."""
    backend = settings.TASKS["default"]["BACKEND"]
    if backend.startswith("django_tasks_rq"):
        import django_rq

        return {name: django_rq.get_queue(name).count for name in settings.RQ_QUEUES}
    if backend.startswith("django_tasks_db"):
        from django_tasks_db.models import DBTaskResult

        rows = (
            DBTaskResult.objects.filter(status="READY")
            .values_list("queue_name")
            .annotate(n=Count("id"))
        )
        return dict(rows) or {"default": 0}
    return {}


class ArchiveCollector:
    """Figures read from the database at each scrape."""

    def collect(self):
        from dangan.digitize.models import PageProcessing
        from dangan.integrity.models import CheckReport, FixityRun

        depth = GaugeMetricFamily(
            "dangan_queue_depth", "Tasks waiting in the queue.", labels=["queue"]
        )
        for name, count in queue_depth().items():
            depth.add_metric([name], count)
        yield depth

        pages = GaugeMetricFamily(
            "dangan_pages", "Pages in the digitization pipeline not yet done.", labels=["state"]
        )
        counts = dict(
            PageProcessing.objects.exclude(state=PageProcessing.State.DONE)
            .values_list("state")
            .annotate(n=Count("id"))
        )
        for state in ("pending", "running", "failed"):
            pages.add_metric([state], counts.get(state, 0))
        yield pages

        since = timezone.now() - datetime.timedelta(minutes=OCR_RATE_MINUTES)
        done = PageProcessing.objects.filter(
            state=PageProcessing.State.DONE, updated_at__gte=since
        ).count()
        yield GaugeMetricFamily(
            "dangan_ocr_pages_per_minute",
            f"Pages read (OCR) per minute, over the last {OCR_RATE_MINUTES} minutes.",
            value=done / OCR_RATE_MINUTES,
        )
        yield GaugeMetricFamily(
            "dangan_check_failures",
            "Four-property check reports (DA/T 70) that did not pass.",
            value=CheckReport.objects.filter(passed=False).count(),
        )
        failures = FixityRun.objects.aggregate(n=Sum("failures"))["n"] or 0
        yield GaugeMetricFamily(
            "dangan_fixity_failures",
            "Blobs found changed, missing or unreadable by fixity audits.",
            value=failures,
        )


def exposition() -> bytes:
    """The text format for one scrape: this process's request figures and the archive's."""
    registry = CollectorRegistry()
    registry.register(ArchiveCollector())
    return generate_latest(REGISTRY) + generate_latest(registry)
