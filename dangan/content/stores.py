"""Where the bytes live: content-addressed blobs on local disk or in S3-compatible storage.

A blob's key is its SHA-256 (``ab/cd/abcd…``), so the same bytes are stored once and a blob is
never overwritten: a second upload of the same content finds the key taken and reuses it.
Bytes stream in through ``receive()`` — an ``Incoming`` that digests (SHA-256) and writes each
chunk in one pass — and stream out through ``open()``; neither holds a whole file in memory.
The SM3 digest is not computed here: ``content.services.ensure_sm3`` fills it in afterwards.

* ``LocalStore`` writes a temporary file beside the blobs, fsyncs it, and links it to its key
  (a link, unlike a rename, fails rather than replace a file that is already there). With fsync
  on, the disk is asked to start writing each chunk as soon as it is written (Linux
  ``sync_file_range``, from a helper thread so that the writer never waits on it): the fsync at
  the end then finds most of the file on disk already, instead of the disk idling while the
  bytes are copied and the copying idling while the disk writes. ``finish_writing()`` starts
  that fsync in the background, so that the next file is written while the disk finishes this
  one; ``commit_together()`` commits several uploads with one fsync per directory instead of
  one per blob (the pages of one upload, one scanned folder).
* ``S3Store`` puts a small blob in one request, and streams a large one as a multipart upload
  to a temporary key, copied to its content key inside the object store when it is complete.

Which store serves is configuration (``CONTENT_STORE`` in settings); ``get_store()`` returns it.
With ``DANGAN_CONTENT_ENCRYPTION`` on it is the encrypting kind of either store
(``EncryptedLocalStore``, ``EncryptedS3Store``, see ``content.encryption``): the same API, the
digests still on the plain bytes, the bytes at rest encrypted.
"""

import ctypes
import functools
import os
import tempfile
import uuid
from abc import ABC, abstractmethod
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

from . import encryption
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
    size: int
    existed: bool


class Incoming(ABC):
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
        chunk = bytes(chunk)  # the digester's thread needs bytes that stay as they are
        self.digester.update(chunk)
        self._write(chunk)

    def finish_writing(self) -> None:  # noqa: B027 - most stores have nothing to start
        """No more bytes will come: start making them safe (``commit`` still waits for it)."""

    def commit(self, *, directories: set | None = None) -> StoredBlob:
        """Put the bytes under their content key, safe on disk when this returns — except,
        when ``directories`` is given, the directory entries: their directories are added to
        it for the caller to sync (``commit_together``)."""
        self.finish_writing()
        sha256 = self.digester.finish()
        key = blob_key(sha256)
        existed = self._commit(key, directories)
        self.stored = StoredBlob(key=key, sha256=sha256, size=self.size, existed=existed)
        return self.stored

    @abstractmethod
    def _write(self, chunk: bytes) -> None:
        """Put ``chunk`` after the bytes written so far (a temporary file, a multipart part)."""

    @abstractmethod
    def _commit(self, key: str, directories: set | None) -> bool:
        """Move the bytes into place under ``key``; True when the blob was there already."""

    @abstractmethod
    def abort(self) -> None:
        """Remove every trace of an upload that will not be committed."""


def commit_together(incomings) -> list[StoredBlob]:
    """Commit several finished uploads; every blob is safe when this returns. On local disk
    each directory is synced once for all of them rather than once per blob."""
    directories = set()
    stored = [incoming.commit(directories=directories) for incoming in incomings]
    for directory in directories:
        _fsync_directory(directory)
    return stored


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

    def blob_file(self, key: str) -> Path:
        return self.root / key

    def path(self, key: str) -> Path:
        """The blob's file, for tools that read files (a virus scanner)."""
        return self.blob_file(key)

    def open(self, key: str):
        """The blob as a binary file object, for reading in chunks."""
        return open(self.blob_file(key), "rb")  # noqa: SIM115 - the caller closes it

    def exists(self, key: str) -> bool:
        return self.blob_file(key).is_file()

    def delete(self, key: str) -> None:
        """Remove a blob for good: only lawful destruction (dangan.appraisal) calls this."""
        self.blob_file(key).unlink(missing_ok=True)


def _sync_file_range():
    """libc's ``sync_file_range`` (Linux), or None where there is none."""
    try:
        function = ctypes.CDLL(None, use_errno=True).sync_file_range
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    return function


_SYNC_FILE_RANGE = _sync_file_range()
_SYNC_FILE_RANGE_WRITE = 2  # start writing the dirty pages of the range; do not wait
_writeback_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="writeback")
_fsync_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="fsync")


class LocalIncoming(Incoming):
    def __init__(self, store: LocalStore):
        super().__init__()
        self.store = store
        fd, name = tempfile.mkstemp(dir=store.incoming, prefix="upload-")
        self.temp = Path(name)
        self.file = os.fdopen(fd, "wb", buffering=0)
        self.written = 0
        self.writebacks = []
        self.syncing = None  # the fsync started by finish_writing()

    def _write(self, chunk):
        view = memoryview(chunk)
        while view:
            view = view[self.file.write(view) :]
        if self.store.fsync and _SYNC_FILE_RANGE is not None:
            # Only a hint (fsync says whether the bytes are safe), given where it cannot block
            # the writer when the disk's queue is full.
            self.writebacks.append(
                _writeback_pool.submit(
                    _SYNC_FILE_RANGE,
                    self.file.fileno(),
                    self.written,
                    len(chunk),
                    _SYNC_FILE_RANGE_WRITE,
                )
            )
        self.written += len(chunk)

    def _wait_writebacks(self):
        """Before the file is synced or closed (its descriptor must not be reused meanwhile)."""
        for writeback in self.writebacks:
            writeback.result()
        self.writebacks.clear()

    def _sync(self):
        self._wait_writebacks()
        if self.store.fsync:
            os.fsync(self.file.fileno())

    def finish_writing(self):
        if self.syncing is None:
            self.syncing = _fsync_pool.submit(self._sync)

    def _commit(self, key, directories) -> bool:
        self.syncing.result()
        self.file.close()
        self.temp.chmod(0o444)
        final = self.store.blob_file(key)
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
            synced = {final.parent, final.parent.parent} if new_directory else {final.parent}
            if directories is None:
                for directory in synced:
                    _fsync_directory(directory)
            else:
                directories |= synced
        return existed

    def _replace(self, key) -> None:
        """Put the bytes written in place of the blob ``key`` (a rekey; nothing else
        overwrites a blob)."""
        self._sync()
        self.file.close()
        self.temp.chmod(0o444)
        final = self.store.blob_file(key)
        os.replace(self.temp, final)
        if self.store.fsync:
            _fsync_directory(final.parent)

    def abort(self):
        if self.syncing is not None:
            self.syncing.exception()  # wait; the upload is dropped either way
        self._wait_writebacks()
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

    def delete(self, key: str) -> None:
        """Remove a blob for good: only lawful destruction (dangan.appraisal) calls this."""
        self.client.delete_object(Bucket=self.bucket, Key=self.object_key(key))

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

    def _commit(self, key, directories) -> bool:
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

    def _replace(self, key) -> None:
        """Put the bytes written in place of the blob ``key`` (a rekey; nothing else
        overwrites a blob)."""
        client, bucket = self.store.client, self.store.bucket
        final = self.store.object_key(key)
        if self.upload_id is None:
            client.put_object(Bucket=bucket, Key=final, Body=bytes(self.buffer))
            self.buffer = bytearray()
            return
        if self.buffer:
            self._upload_part()
        client.complete_multipart_upload(
            Bucket=bucket,
            Key=self.temp_key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},
        )
        self.upload_id, self.completed = None, True
        client.copy({"Bucket": bucket, "Key": self.temp_key}, bucket, final)
        client.delete_object(Bucket=bucket, Key=self.temp_key)
        self.completed = False

    def abort(self):
        client, bucket = self.store.client, self.store.bucket
        self.buffer = bytearray()
        if self.completed:
            client.delete_object(Bucket=bucket, Key=self.temp_key)
        elif self.upload_id is not None:
            client.abort_multipart_upload(Bucket=bucket, Key=self.temp_key, UploadId=self.upload_id)
        self.upload_id = None
        self.completed = False


# --- Encryption at rest ---------------------------------------------------------------------------
class SealingIncoming:
    """Bytes on their way into an encrypting store: the digests see the plain bytes, the store
    underneath receives the header and the sealed chunks (``content.encryption``)."""

    def __init__(self, inner: Incoming, sealer: "encryption.Sealer"):
        self.inner = inner
        self.sealer = sealer

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        return self.inner.__exit__(exc_type, exc, tb)

    @property
    def size(self) -> int:
        return self.inner.size

    @property
    def stored(self) -> StoredBlob | None:
        return self.inner.stored

    def write(self, chunk: bytes) -> None:
        chunk = bytes(chunk)
        self.inner.digester.update(chunk)
        for sealed in self.sealer.feed(chunk):
            self.inner._write(sealed)

    def finish_writing(self) -> None:
        if self.sealer is not None:
            for sealed in self.sealer.finish():
                self.inner._write(sealed)
            self.sealer = None
            self.inner.finish_writing()

    def commit(self, *, directories: set | None = None) -> StoredBlob:
        self.finish_writing()
        return self.inner.commit(directories=directories)

    def abort(self) -> None:
        self.inner.abort()


class EncryptingStore:
    """What makes a store encrypt (a mixin before ``LocalStore`` or ``S3Store``): ``receive``
    seals, ``open`` decrypts; everything else — keys, existence, deletion — is the store's own.
    Blobs stored before encryption was turned on are read as they are (``rekey`` encrypts them).
    """

    def __init__(self, *args, algorithm: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.algorithm = algorithm
        self.keks = encryption.load_keks(create=True)

    def __str__(self):
        return f"{super().__str__()} ({self.algorithm})"

    def receive(self) -> SealingIncoming:
        return SealingIncoming(super().receive(), encryption.Sealer(self.algorithm, self.keks[0]))

    def open(self, key: str):
        """The blob's plain bytes as a stream (``read(n)``, ``close()``), decrypted chunk by
        chunk; ``encryption.ContentIntegrityError`` when the stored bytes were tampered with."""
        return encryption.open_sealed(super().open(key), self.keks, name=key)

    def rekey(self, key: str) -> str:
        """Wrap the blob's data key with the current KEK: "current" (already), "rewrapped"
        (header rewritten, chunks copied as they are) or "encrypted" (a blob stored plain)."""
        current = self.keks[0]
        raw = super().open(key)
        try:
            header, head = encryption.read_header(raw)
            if header is not None and header.kek_id == current.id:
                return "current"
            with super().receive() as incoming:
                if header is None:
                    sealer = encryption.Sealer(self.algorithm, current)
                    for sealed in sealer.feed(head):
                        incoming._write(sealed)
                    while chunk := raw.read(CHUNK_BYTES):
                        for sealed in sealer.feed(chunk):
                            incoming._write(sealed)
                    for sealed in sealer.finish():
                        incoming._write(sealed)
                    status = "encrypted"
                else:
                    data_key = header.data_key(self.keks)
                    incoming._write(header.rewrapped(data_key, current).to_bytes())
                    while chunk := raw.read(CHUNK_BYTES):
                        incoming._write(chunk)
                    status = "rewrapped"
                incoming._replace(key)
        finally:
            raw.close()
        return status


class EncryptedLocalStore(EncryptingStore, LocalStore):
    @property
    def path(self):
        """No plain file to hand out: a tool that reads files would see only ciphertext."""
        raise AttributeError("an encrypted store has no plain files; use open()")


class EncryptedS3Store(EncryptingStore, S3Store):
    pass


# --- The configured store ------------------------------------------------------------------------
@functools.cache
def get_store():
    """The store that settings name: ``CONTENT_STORE`` is "local" (default) or "s3"."""
    algorithm = (settings.DANGAN_CONTENT_ENCRYPTION or "off").lower()
    if algorithm in ("", "off", "false", "no", "0"):
        if settings.CONTENT_STORE == "s3":
            return S3Store(**settings.CONTENT_S3)
        return LocalStore(settings.CONTENT_DIR, fsync=settings.CONTENT_FSYNC)
    if algorithm not in encryption.ALGORITHMS:
        raise ImproperlyConfigured(
            f"DANGAN_CONTENT_ENCRYPTION={algorithm!r}: use sm4-gcm, aes-256-gcm or off."
        )
    if settings.CONTENT_STORE == "s3":
        return EncryptedS3Store(**settings.CONTENT_S3, algorithm=algorithm)
    return EncryptedLocalStore(
        settings.CONTENT_DIR, fsync=settings.CONTENT_FSYNC, algorithm=algorithm
    )


@receiver(setting_changed)
def _forget_store(*, setting, **kwargs):
    if setting.startswith(("CONTENT_", "DANGAN_CONTENT_")):
        get_store.cache_clear()
