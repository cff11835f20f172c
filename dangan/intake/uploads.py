"""Resumable uploads for towns on a poor line: the tus 1.0 core protocol (https://tus.io),
with its creation and checksum extensions.

* ``create_upload``: the client states the file's length and SHA-256 (``Upload-Length``,
  ``Upload-Metadata: filename …,sha256 …``) and gets an upload id.
* ``append_chunk``: each chunk comes with the offset it starts at (``Upload-Offset``) and its
  own checksum (``Upload-Checksum: sha256 <base64>``). A chunk cut off by the line fails its
  checksum and is dropped whole; the offset stays where the last good chunk ended.
* ``upload_offset``: where to resume (``HEAD``).
* When the last byte is in, the file is streamed from its partial file into the content store
  (format identified, SHA-256 and SM3 computed in one pass) and compared with the SHA-256 the
  client stated. The blob is then ready to be staged as an item's file.

Partial files live in ``DATA_DIR/uploads``; nothing of them is in memory but one chunk.
"""

import base64
import hashlib
import os
import uuid
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dangan.content.services import keep_file

from .models import Upload

#: The largest chunk one PATCH may carry (it is checked in memory).
MAX_CHUNK = 16 * 1024 * 1024


class ChecksumMismatch(ValidationError):
    """The chunk is not what its checksum says (tus answers 460)."""


class OffsetConflict(ValidationError):
    """The chunk does not start where the upload stands (tus answers 409)."""


def upload_dir() -> Path:
    path = Path(settings.DATA_DIR) / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _partial(upload: Upload) -> Path:
    return upload_dir() / f"{upload.uid}.part"


def create_upload(*, actor, filename: str, length: int, sha256: str) -> Upload:
    if length <= 0:
        raise ValidationError(_("An upload needs its length in bytes."), code="upload_length")
    if len(sha256 or "") != 64 or any(c not in "0123456789abcdef" for c in sha256.lower()):
        raise ValidationError(_("An upload needs the file's SHA-256 (hex)."), code="upload_sha256")
    if length > settings.DANGAN_MAX_UPLOAD_BYTES:
        raise ValidationError(
            _("The file is larger than the archive accepts."), code="upload_too_large"
        )
    upload = Upload.objects.create(
        uid=uuid.uuid4(),
        created_by=actor,
        filename=filename[:255],
        length=length,
        sha256=sha256.lower(),
    )
    _partial(upload).touch()
    return upload


def own_upload(actor, uid) -> Upload:
    """The upload ``uid`` of ``actor`` (another user's upload does not exist for them)."""
    return Upload.objects.get(uid=uid, created_by=actor)


def parse_checksum(header: str) -> tuple[str, bytes]:
    algorithm, _sep, value = (header or "").strip().partition(" ")
    try:
        return algorithm.lower(), base64.b64decode(value.strip(), validate=True)
    except ValueError:
        raise ChecksumMismatch(_("The checksum is not base64."), code="checksum_format") from None


def append_chunk(
    *, actor, upload: Upload, offset: int, data: bytes, checksum: str | None
) -> Upload:
    """Append one chunk at ``offset``; the whole upload is kept when the last byte arrives."""
    if upload.created_by_id != getattr(actor, "pk", None):
        raise PermissionDenied(_("This upload is someone else's."))
    if len(data) > MAX_CHUNK:
        raise ValidationError(_("A chunk may be 16 MiB at most."), code="chunk_too_large")
    if checksum:
        algorithm, expected = parse_checksum(checksum)
        if algorithm != "sha256":
            raise ValidationError(_("Checksums are SHA-256."), code="checksum_algorithm")
        if hashlib.sha256(data).digest() != expected:
            raise ChecksumMismatch(
                _("The chunk at %(offset)d does not match its checksum; send it again.")
                % {"offset": offset},
                code="checksum_mismatch",
            )
    with transaction.atomic():
        upload = Upload.objects.select_for_update().get(pk=upload.pk)
        if upload.blob_id is not None:
            raise OffsetConflict(_("This upload is complete."), code="upload_complete")
        if offset != upload.offset:
            raise OffsetConflict(
                _("The upload stands at %(offset)d.") % {"offset": upload.offset},
                code="offset_conflict",
            )
        if upload.offset + len(data) > upload.length:
            raise ValidationError(_("More bytes than the upload's length."), code="too_long")
        path = _partial(upload)
        with open(path, "r+b") as partial:
            partial.truncate(upload.offset)  # anything past the last good chunk is dropped
            partial.seek(upload.offset)
            partial.write(data)
            partial.flush()
            os.fsync(partial.fileno())
        upload.offset += len(data)
        upload.save(update_fields=["offset", "updated_at"])
    if upload.offset == upload.length:
        _complete(upload)
    return upload


def _complete(upload: Upload) -> None:
    path = _partial(upload)
    with open(path, "rb") as stream:
        blob = keep_file(name=upload.filename, stream=stream, actor=upload.created_by)
    if blob.sha256 != upload.sha256:
        Upload.objects.filter(pk=upload.pk).update(offset=0)
        path.write_bytes(b"")
        raise ChecksumMismatch(
            _("The file that arrived has SHA-256 %(got)s, not %(sent)s; upload it again.")
            % {"got": blob.sha256, "sent": upload.sha256},
            code="file_checksum_mismatch",
        )
    upload.blob = blob
    upload.save(update_fields=["blob", "updated_at"])
    path.unlink(missing_ok=True)
