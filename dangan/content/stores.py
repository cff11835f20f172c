"""Where the bytes live: content-addressed blobs on local disk or in S3-compatible storage.

A blob's key is its SHA-256 (``ab/cd/abcd…``), so the same bytes are stored once and a blob is
never overwritten: a second upload of the same content finds the key taken and reuses it.
Bytes stream in through ``receive()`` — an ``Incoming`` that digests (SHA-256 and SM3) and
writes each chunk in one pass — and stream out through ``open()``; neither holds a whole file
in memory.

* ``LocalStore`` writes a temporary file beside the blobs, fsyncs it, and links it to its key
  (a link, unlike a rename, fails rather than replace a file that is already there).
* ``S3Store`` puts a small blob in one request, and streams a large one as a multipart upload
  to a temporary key, copied to its content key inside the object store when it is complete.

Which store serves is configuration (``CONTENT_STORE`` in settings); ``get_store()`` returns it.
"""

import functools
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

from .digests import Digester

#: Bytes read or written at a time when streaming.
CHUNK_BYTES = 1024 * 1024


def blob_key(sha256: str) -> str:
    """The content address of a blob: two levels of directories keep each one small."""
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


@dataclass(frozen=True)
class StoredBlob:
    """A blob safely in the store. ``existed``: the same bytes were already there."""

    key: str
    sha256: str
    sm3: str
    size: int
    existed: bool


class Incoming:
    """Bytes on their way into the store; use as a context manager and ``commit()``.

    Leaving the block without ``commit()`` (an exception, a refused format) removes every
    trace of the upload: no temporary file, no part of a multipart upload.
    """

    def __init__(self):
        self.digester = Digester()
        self.stored: StoredBlob | None = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.stored is None:
            self.abort()

    @property
    def size(self) -> int:
        return self.digester.size

    def write(self, chunk: bytes) -> None:
        chunk = bytes(chunk)  # the digester's second thread needs bytes that stay as they are
        self.digester.update(chunk)
        self._write(chunk)

    def commit(self) -> StoredBlob:
        sha256, sm3 = self.digester.finish()
        key = blob_key(sha256)
        existed = self._commit(key)
        self.stored = StoredBlob(key=key, sha256=sha256, sm3=sm3, size=self.size, existed=existed)
        return self.stored

    def _write(self, chunk: bytes) -> None:
        raise NotImplementedError

    def _commit(self, key: str) -> bool:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError


# --- Local disk ----------------------------------------------------------------------------------
class LocalStore:
    """Blobs as read-only files under ``root``; ``root/incoming`` holds uploads in progress."""

    def __init__(self, root, *, fsync: bool = True):
        self.root = Path(root)
        self.incoming = self.root / "incoming"
        self.incoming.mkdir(parents=True, exist_ok=True)
        self.fsync = fsync

    def __str__(self):
        return f"local:{self.root}"

    def receive(self) -> "LocalIncoming":
        return LocalIncoming(self)

    def path(self, key: str) -> Path:
        return self.root / key

    def open(self, key: str):
        """The blob as a binary file object, for reading in chunks."""
        return open(self.path(key), "rb")  # noqa: SIM115 - the caller closes it

    def exists(self, key: str) -> bool:
        return self.path(key).is_file()


class LocalIncoming(Incoming):
    def __init__(self, store: LocalStore):
        super().__init__()
        self.store = store
        fd, name = tempfile.mkstemp(dir=store.incoming, prefix="upload-")
        self.temp = Path(name)
        self.file = os.fdopen(fd, "wb", buffering=0)

    def _write(self, chunk):
        view = memoryview(chunk)
        while view:
            view = view[self.file.write(view) :]

    def _commit(self, key) -> bool:
        if self.store.fsync:
            os.fsync(self.file.fileno())
        self.file.close()
        self.temp.chmod(0o444)
        final = self.store.path(key)
        new_directory = not final.parent.exists()
        final.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(self.temp, final)
            existed = False
        except FileExistsError:
            existed = True
        finally:
            self.temp.unlink()
        if not existed and self.store.fsync:
            _fsync_directory(final.parent)
            if new_directory:
                _fsync_directory(final.parent.parent)
        return existed

    def abort(self):
        if not self.file.closed:
            self.file.close()
        self.temp.unlink(missing_ok=True)


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- S3-compatible object storage ----------------------------------------------------------------
class S3Store:
    """Blobs as objects in one bucket (MinIO, Ceph RGW, any S3 API), keys under ``prefix``."""

    #: Parts of a multipart upload; S3 wants at least 5 MiB for every part but the last.
    PART_BYTES = 8 * 1024 * 1024

    def __init__(
        self, *, bucket, endpoint_url=None, access_key=None, secret_key=None, region=None, prefix=""
    ):
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = boto3.client(
            "s3",
            endpoint_url=endpoint_url or None,
            aws_access_key_id=access_key or None,
            aws_secret_access_key=secret_key or None,
            region_name=region or None,
            config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 5}),
        )

    def __str__(self):
        return f"s3:{self.client.meta.endpoint_url}/{self.bucket}/{self.prefix}"

    def object_key(self, key: str) -> str:
        return self.prefix + key

    def receive(self) -> "S3Incoming":
        return S3Incoming(self)

    def open(self, key: str):
        """The blob as a stream with ``read(n)`` and ``close()``."""
        return self.client.get_object(Bucket=self.bucket, Key=self.object_key(key))["Body"]

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self.object_key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True

    def ensure_bucket(self) -> None:
        """Create the bucket if it is not there (set-up and tests)."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
        except ClientError:
            self.client.create_bucket(Bucket=self.bucket)


class S3Incoming(Incoming):
    def __init__(self, store: S3Store):
        super().__init__()
        self.store = store
        self.buffer = bytearray()
        self.temp_key = store.object_key(f"incoming/{uuid.uuid4().hex}")
        self.upload_id = None
        self.parts = []
        self.completed = False

    def _write(self, chunk):
        self.buffer += chunk
        if len(self.buffer) >= S3Store.PART_BYTES:
            self._upload_part()

    def _upload_part(self):
        client, bucket = self.store.client, self.store.bucket
        if self.upload_id is None:
            self.upload_id = client.create_multipart_upload(Bucket=bucket, Key=self.temp_key)[
                "UploadId"
            ]
        number = len(self.parts) + 1
        answer = client.upload_part(
            Bucket=bucket,
            Key=self.temp_key,
            UploadId=self.upload_id,
            PartNumber=number,
            Body=bytes(self.buffer),
        )
        self.parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        self.buffer.clear()

    def _commit(self, key) -> bool:
        client, bucket = self.store.client, self.store.bucket
        final = self.store.object_key(key)
        if self.store.exists(key):
            self.abort()
            return True
        if self.upload_id is None:  # small enough for one request
            client.put_object(Bucket=bucket, Key=final, Body=bytes(self.buffer))
            return False
        if self.buffer:
            self._upload_part()
        client.complete_multipart_upload(
            Bucket=bucket,
            Key=self.temp_key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},
        )
        self.completed = True
        # A managed copy: multipart inside the object store for blobs over 5 GB.
        client.copy({"Bucket": bucket, "Key": self.temp_key}, bucket, final)
        client.delete_object(Bucket=bucket, Key=self.temp_key)
        return False

    def abort(self):
        client, bucket = self.store.client, self.store.bucket
        self.buffer = bytearray()
        if self.completed:
            client.delete_object(Bucket=bucket, Key=self.temp_key)
        elif self.upload_id is not None:
            client.abort_multipart_upload(Bucket=bucket, Key=self.temp_key, UploadId=self.upload_id)
        self.upload_id = None
        self.completed = False


# --- The configured store ------------------------------------------------------------------------
@functools.cache
def get_store():
    """The store that settings name: ``CONTENT_STORE`` is "local" (default) or "s3"."""
    if settings.CONTENT_STORE == "s3":
        return S3Store(**settings.CONTENT_S3)
    return LocalStore(settings.CONTENT_DIR, fsync=settings.CONTENT_FSYNC)


@receiver(setting_changed)
def _forget_store(*, setting, **kwargs):
    if setting.startswith("CONTENT_"):
        get_store.cache_clear()
