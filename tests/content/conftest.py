"""Content fixtures: the two stores, local disk and a real S3 API (moto's server, on loopback).

``store`` is parametrised, so every test that asks for it runs once per store. The S3 server is
moto in server mode, started once per session in its own process on a free port (its own
process, so that measuring our memory does not count the server's).
"""

import os
import socket
import subprocess
import sys
import time
import uuid

import pytest

from dangan.content.stores import get_store


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def s3_endpoint():
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"},
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail("moto's S3 server did not start")
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def local_store(settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    return get_store()


@pytest.fixture
def s3_store(settings, s3_endpoint):
    settings.CONTENT_STORE = "s3"
    settings.CONTENT_S3 = {
        "endpoint_url": s3_endpoint,
        "bucket": f"dangan-{uuid.uuid4().hex[:12]}",
        "access_key": "test",
        "secret_key": "test",
        "region": "us-east-1",
        "prefix": "blobs",
    }
    store = get_store()
    store.ensure_bucket()
    return store


@pytest.fixture(params=["local", "s3"])
def store(request):
    """The configured store, once on local disk and once on S3 (moto's server)."""
    return request.getfixturevalue(f"{request.param}_store")


def leftovers(store) -> list[str]:
    """What an upload may leave behind: temporary files, temporary objects, open multipart
    uploads. Empty after every upload, committed or not."""
    if hasattr(store, "incoming"):
        return [path.name for path in store.incoming.iterdir()]
    client, bucket = store.client, store.bucket
    objects = client.list_objects_v2(Bucket=bucket, Prefix=store.object_key("incoming/"))
    uploads = client.list_multipart_uploads(Bucket=bucket)
    return [o["Key"] for o in objects.get("Contents", [])] + [
        u["Key"] for u in uploads.get("Uploads", [])
    ]


def jpeg(size=4096, seed=b"") -> bytes:
    """Bytes that start as a JPEG (JFIF) does, unique per call unless ``seed`` is given."""
    body = (seed * (size // max(len(seed), 1) + 1))[:size] if seed else os.urandom(size)
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01" + body


def pdf(body: bytes = b"", version=b"1.7") -> bytes:
    return b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n" + body + os.urandom(64) + b"\n%%EOF\n"
