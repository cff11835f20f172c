"""Health, readiness, metrics, JSON logs, the replica router and rate limits shared by servers."""

import json
import logging
import shutil
import socket
import subprocess
import sys
import time

import pytest
from django.core.cache.backends.redis import RedisCache

from dangan.ops import routers
from dangan.ops.logformat import JsonFormatter
from dangan.security import ratelimit


@pytest.fixture
def host(settings):
    settings.ALLOWED_HOSTS = ["testserver"]


def test_healthz_says_ok_and_nothing_more(client, host):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_readyz_names_each_service_ok(client, host):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {"database": "ok", "cache": "ok", "content_store": "ok", "queue": "ok"},
    }


@pytest.mark.django_db
def test_readyz_answers_503_without_saying_why(client, host, settings, caplog):
    settings.CONTENT_STORE = "s3"
    settings.CONTENT_S3 = {
        **settings.CONTENT_S3,
        "endpoint_url": "http://127.0.0.1:9",  # nothing listens there
        "access_key": "secret-key-id",
        "secret_key": "secret",
    }
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["content_store"] == "fail"
    body = response.content.decode()
    assert "127.0.0.1" not in body and "secret" not in body
    assert "content_store is not reachable" in caplog.text  # the reason goes to the log


@pytest.mark.django_db
def test_metrics_need_the_token_or_an_allowed_address(client, host, settings):
    settings.DANGAN_METRICS_TOKEN = "s3cr3t-token"
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    response = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cr3t-token")
    assert response.status_code == 200
    settings.DANGAN_METRICS_TOKEN = ""
    settings.DANGAN_METRICS_ALLOW = ["127.0.0.1"]
    assert client.get("/metrics").status_code == 200


@pytest.mark.django_db
def test_metrics_count_requests_by_view_and_report_the_work(client, host, settings, archivist):
    settings.DANGAN_METRICS_ALLOW = ["127.0.0.1"]
    client.force_login(archivist)
    client.get("/catalogue/")
    text = client.get("/metrics").content.decode()
    assert 'dangan_http_requests_total{method="GET",status="200",view="catalogue:record-list"}' in (
        text
    )
    assert 'dangan_http_request_duration_seconds_bucket{le="0.3",view="catalogue:record-list"}' in (
        text
    )
    for name in (
        'dangan_queue_depth{queue="default"}',
        'dangan_pages{state="pending"}',
        "dangan_ocr_pages_per_minute",
        "dangan_check_failures",
        "dangan_fixity_failures",
    ):
        assert name in text
    assert "/catalogue/" not in text  # series by URL name, never by path


def test_json_logs_mask_id_numbers():
    record = logging.LogRecord(
        "dangan.test", logging.INFO, __file__, 1, "looked up %s", ("320925194304016802",), None
    )
    record.person = "320925194304016802"
    for masking in logging.getLogger().handlers[0].filters if logging.getLogger().handlers else []:
        masking.filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["level"] == "INFO" and entry["logger"] == "dangan.test"
    assert "320925194304016802" not in json.dumps(entry)
    assert entry["message"] == "looked up 320925********6802"
    assert entry["person"] == "320925********6802"


def test_the_json_format_is_chosen_by_the_environment(tmp_path):
    env = {"DANGAN_LOG_FORMAT": "json", "DANGAN_DATA_DIR": str(tmp_path)}
    code = (
        "import django, logging; django.setup();"
        "logging.getLogger('dangan').warning('card 320925194304016802 seen')"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "DJANGO_SETTINGS_MODULE": "dangan.settings", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    entry = json.loads(done.stderr.strip().splitlines()[-1])
    assert entry["message"] == "card 320925********6802 seen"


# --- The replica router -------------------------------------------------------------------------


def test_only_catalogue_reads_inside_a_replica_block_go_to_the_replica(settings):
    from dangan.accounts.models import Grant
    from dangan.catalogue.models import Record

    router = routers.ReplicaRouter()
    settings.DATABASES = {**settings.DATABASES, "replica": settings.DATABASES["default"]}
    assert router.db_for_read(Record) == "default"
    with routers.replica_reads():
        assert router.db_for_read(Record) == "replica"
        assert router.db_for_read(Grant) == "default"  # rights: always the primary
        assert router.db_for_write(Record) == "default"
    assert router.db_for_read(Record) == "default"
    assert router.allow_migrate("replica", "catalogue") is False


def test_without_a_replica_everything_reads_the_primary():
    from dangan.catalogue.models import Record

    with routers.replica_reads():
        assert routers.ReplicaRouter().db_for_read(Record) == "default"


@pytest.mark.django_db
def test_search_and_statistics_pages_read_from_the_replica(client, host, settings, archivist):
    settings.DATABASES = {**settings.DATABASES, "replica": settings.DATABASES["default"]}
    seen = []
    original = routers.ReplicaRouter.db_for_read

    def spy(self, model, **hints):
        seen.append((model._meta.app_label, original(self, model, **hints)))
        return "default"  # the test database has no second connection: record, then read here

    client.force_login(archivist)
    routers.ReplicaRouter.db_for_read = spy
    try:
        client.get("/stats/")
        on_stats = set(seen)
        seen.clear()
        client.get("/catalogue/")
        on_catalogue = set(seen)
    finally:
        routers.ReplicaRouter.db_for_read = original
    assert ("catalogue", "replica") in on_stats
    assert ("accounts", "replica") not in on_stats
    assert {alias for _app, alias in on_catalogue} == {"default"}


# --- Rate limits agree across web servers ------------------------------------------------------


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    if not shutil.which("redis-server"):
        pytest.skip("redis-server is not installed")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    folder = tmp_path_factory.mktemp("redis")
    server = subprocess.Popen(
        ["redis-server", "--port", str(port), "--save", "", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.1)
    yield f"redis://127.0.0.1:{port}/0"
    server.terminate()
    server.wait()


def test_two_web_servers_share_one_rate_limit(redis_url, monkeypatch):
    """Each web server has its own connection to Redis; the count is one."""
    first, second = (RedisCache(redis_url, {"KEY_PREFIX": "dangan"}) for _ in range(2))
    allowed = []
    for n in range(10):
        monkeypatch.setattr(ratelimit, "cache", first if n % 2 else second)
        allowed.append(ratelimit.hit("login:198.51.100.7", limit=6, window=60))
    assert allowed == [True] * 6 + [False] * 4
