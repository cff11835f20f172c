"""Encryption at rest of the content store: what lies on disk or in the bucket is not the plain
bytes, downloads and fixity see the plain bytes, tampering is refused, keys rotate."""

import hashlib
import io
import json
import os
import uuid

import pytest
from django.core.management import call_command
from django.urls import reverse

from dangan.audit.models import AuditEvent
from dangan.content import encryption
from dangan.content.encryption import CHUNK_PLAIN, ContentIntegrityError
from dangan.content.models import Blob
from dangan.content.services import keep_bytes
from dangan.content.stores import get_store
from dangan.integrity.models import StorageAlert
from tests.content.conftest import jpeg, pdf, s3_endpoint  # noqa: F401 - s3_endpoint: a fixture


@pytest.fixture(params=["sm4-gcm", "aes-256-gcm"])
def algorithm(request):
    return request.param


@pytest.fixture(params=["local", "s3"])
def sealed_store(request, settings, tmp_path, algorithm):
    """An encrypting store, on local disk and on S3 (moto's server), under a key file."""
    settings.DANGAN_CONTENT_ENCRYPTION = algorithm
    settings.DANGAN_CONTENT_KEK = ""
    settings.DANGAN_CONTENT_KEK_FILE = str(tmp_path / "keys" / "content-kek")
    if request.param == "local":
        settings.CONTENT_STORE = "local"
        settings.CONTENT_DIR = tmp_path / "content"
    else:
        settings.CONTENT_STORE = "s3"
        settings.CONTENT_S3 = {
            "endpoint_url": request.getfixturevalue("s3_endpoint"),
            "bucket": f"dangan-{uuid.uuid4().hex[:12]}",
            "access_key": "test",
            "secret_key": "test",
            "region": "us-east-1",
            "prefix": "blobs",
        }
    store = get_store()
    if request.param == "s3":
        store.ensure_bucket()
    return store


def put(store, data: bytes, piece=300_000):
    with store.receive() as incoming:
        for start in range(0, len(data), piece):
            incoming.write(data[start : start + piece])
        return incoming.commit()


def stored_bytes(store, key) -> bytes:
    """What really lies on the disk or in the bucket."""
    if hasattr(store, "client"):
        answer = store.client.get_object(Bucket=store.bucket, Key=store.object_key(key))
        return answer["Body"].read()
    return store.blob_file(key).read_bytes()


def put_stored_bytes(store, key, data: bytes) -> None:
    if hasattr(store, "client"):
        store.client.put_object(Bucket=store.bucket, Key=store.object_key(key), Body=data)
        return
    path = store.blob_file(key)
    path.chmod(0o644)
    path.write_bytes(data)


def read(store, key) -> bytes:
    with store.open(key) as stream:
        return stream.read()


@pytest.mark.parametrize("size", [1, 4096, CHUNK_PLAIN, 2 * CHUNK_PLAIN + 17])
def test_the_store_holds_ciphertext_and_gives_back_the_plain_bytes(sealed_store, size):
    data = os.urandom(size)
    stored = put(sealed_store, data)
    assert stored.sha256 == hashlib.sha256(data).hexdigest()  # digests on the plain bytes
    assert stored.size == size
    raw = stored_bytes(sealed_store, stored.key)
    assert raw.startswith(encryption.MAGIC)
    assert size < 16 or data[:64] not in raw
    assert read(sealed_store, stored.key) == data


def test_the_same_bytes_are_still_stored_once(sealed_store):
    data = os.urandom(10_000)
    first, second = put(sealed_store, data), put(sealed_store, data)
    assert second.existed and second.key == first.key
    assert read(sealed_store, first.key) == data


def test_a_local_encrypted_store_hands_out_no_file_path(settings, tmp_path):
    settings.DANGAN_CONTENT_ENCRYPTION = "sm4-gcm"
    settings.DANGAN_CONTENT_KEK_FILE = str(tmp_path / "kek")
    settings.CONTENT_DIR = tmp_path / "content"
    settings.CONTENT_STORE = "local"
    store = get_store()
    assert not hasattr(store, "path")  # a virus scanner would read only ciphertext
    assert oct((tmp_path / "kek").stat().st_mode & 0o777) == "0o600"


def test_seeking_decrypts_only_the_chunk_it_lands_in(settings, tmp_path):
    settings.DANGAN_CONTENT_ENCRYPTION = "aes-256-gcm"
    settings.DANGAN_CONTENT_KEK_FILE = str(tmp_path / "kek")
    settings.CONTENT_STORE, settings.CONTENT_DIR = "local", tmp_path / "content"
    store = get_store()
    data = os.urandom(3 * CHUNK_PLAIN + 5)
    stored = put(store, data)
    with store.open(stored.key) as stream:
        stream.seek(0, io.SEEK_END)
        assert stream.tell() == len(data)  # the plain size, known without reading
        stream.seek(2 * CHUNK_PLAIN + 3)
        assert stream.read(10) == data[2 * CHUNK_PLAIN + 3 : 2 * CHUNK_PLAIN + 13]


@pytest.mark.parametrize("damage", ["flip", "truncate", "cut_last_chunk", "reorder", "header"])
def test_tampered_ciphertext_is_refused_with_a_clear_error(sealed_store, damage):
    data = os.urandom(3 * CHUNK_PLAIN + 100)
    stored = put(sealed_store, data)
    raw = bytearray(stored_bytes(sealed_store, stored.key))
    header = len(encryption.read_header(io.BytesIO(bytes(raw)))[0].to_bytes())
    sealed_chunk = CHUNK_PLAIN + encryption.TAG
    if damage == "flip":
        raw[header + sealed_chunk + 1000] ^= 1
    elif damage == "truncate":
        raw = raw[:-500]
    elif damage == "cut_last_chunk":
        raw = raw[: header + 3 * sealed_chunk]  # ends cleanly after a whole chunk
    elif damage == "reorder":
        body = raw[header:]
        raw = raw[:header] + body[sealed_chunk : 2 * sealed_chunk] + body[:sealed_chunk]
        raw += body[2 * sealed_chunk :]
    elif damage == "header":
        raw[header - 3] ^= 1  # inside the wrapped data key
    put_stored_bytes(sealed_store, stored.key, bytes(raw))
    with pytest.raises(ContentIntegrityError) as refused:
        read(sealed_store, stored.key)
    message = str(refused.value)
    assert "changed" in message or "cut short" in message


def test_download_returns_the_plain_bytes_and_tampering_answers_no_bytes(
    sealed_store, logged_in, archivist, make_record
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    record = make_record()
    client = logged_in(archivist)
    data = pdf(body=b"x" * 1_500_000)
    answer = client.post(
        reverse("content:upload", args=[record.pk]),
        {"files": [SimpleUploadedFile("scan.pdf", data)]},
        headers={"Accept": "application/json"},
    )
    (page,) = answer.json()["pages"]
    download = client.get(page["download_url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == data
    blob = Blob.objects.get()
    assert blob.sha256 == hashlib.sha256(data).hexdigest()
    raw = bytearray(stored_bytes(sealed_store, blob.key))
    raw[200] ^= 0xFF
    put_stored_bytes(sealed_store, blob.key, bytes(raw))
    refused = client.get(page["download_url"])  # refused before a byte is sent
    assert refused.status_code == 503 and not refused.streaming
    assert "无法读取" in refused.text
    assert StorageAlert.objects.get().kind == StorageAlert.Kind.BLOB_CHANGED


def test_blobs_stored_before_encryption_are_read_and_rekey_encrypts_them(
    settings, tmp_path, archivist
):
    settings.CONTENT_STORE, settings.CONTENT_DIR = "local", tmp_path / "content"
    settings.DANGAN_CONTENT_ENCRYPTION = "off"
    plain_blob = keep_bytes(name="old.jpg", data=jpeg(5000))
    settings.DANGAN_CONTENT_ENCRYPTION = "sm4-gcm"
    settings.DANGAN_CONTENT_KEK_FILE = str(tmp_path / "kek")
    store = get_store()
    assert read(store, plain_blob.key) == stored_bytes(store, plain_blob.key)  # plain, readable
    new_blob = keep_bytes(name="new.jpg", data=jpeg(5000))
    out = io.StringIO()
    call_command("content", "rekey", "--json", stdout=out)
    summary = json.loads(out.getvalue())
    assert summary["encrypted"] == 1 and summary["current"] == 1 and summary["failed"] == 0
    assert stored_bytes(store, plain_blob.key).startswith(encryption.MAGIC)
    assert hashlib.sha256(read(store, plain_blob.key)).hexdigest() == plain_blob.sha256
    assert read(store, new_blob.key)
    event = AuditEvent.objects.filter(object_type="content.store").get()
    assert event.detail["change"] == "rekey"


def test_key_rotation_rewraps_data_keys_without_touching_the_chunks(sealed_store, db):
    data = jpeg(CHUNK_PLAIN + 10)
    stored = keep_bytes(name="scan.jpg", data=data)
    before = stored_bytes(sealed_store, stored.key)
    old_header = encryption.read_header(io.BytesIO(before))[0]
    out = io.StringIO()
    call_command("content", "rekey", "--new-key", "--json", stdout=out)
    assert json.loads(out.getvalue().splitlines()[-1])["rewrapped"] == 1
    after = stored_bytes(sealed_store, stored.key)
    new_header = encryption.read_header(io.BytesIO(after))[0]
    assert new_header.kek_id != old_header.kek_id
    assert new_header.wrapped != old_header.wrapped
    assert after[len(new_header.to_bytes()) :] == before[len(old_header.to_bytes()) :]
    assert read(get_store(), stored.key) == data
    # the old key can go once everything is re-wrapped; the blob still opens
    call_command("content", "rekey", "--drop-old", "--json", stdout=io.StringIO())
    assert len(encryption.load_keks()) == 1
    assert read(get_store(), stored.key) == data


def test_without_the_key_nothing_opens(sealed_store, settings, tmp_path):
    stored = put(sealed_store, os.urandom(1000))
    settings.DANGAN_CONTENT_KEK_FILE = str(tmp_path / "another-kek")
    with pytest.raises(ContentIntegrityError, match="not configured"):
        read(get_store(), stored.key)


def test_a_large_blob_streams_through_in_bounded_memory(settings, tmp_path):
    import tracemalloc

    settings.DANGAN_CONTENT_ENCRYPTION = "sm4-gcm"
    settings.DANGAN_CONTENT_KEK_FILE = str(tmp_path / "kek")
    settings.CONTENT_STORE, settings.CONTENT_DIR = "local", tmp_path / "content"
    settings.CONTENT_FSYNC = False
    store = get_store()
    piece = os.urandom(CHUNK_PLAIN)
    digest = hashlib.sha256()
    tracemalloc.start()
    with store.receive() as incoming:
        for n in range(40):
            chunk = piece[n:] + piece[:n]
            digest.update(chunk)
            incoming.write(chunk)
        stored = incoming.commit()
    check = hashlib.sha256()
    with store.open(stored.key) as stream:
        while chunk := stream.read(CHUNK_PLAIN):
            check.update(chunk)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert check.hexdigest() == digest.hexdigest() == stored.sha256
    assert peak < 12 * CHUNK_PLAIN  # 40 MiB went through; a few chunks at a time in memory
