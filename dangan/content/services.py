"""Writing content: adding files to a record and changing their order, with the audit trail.

``add_files`` walks each file through one pass — identify by content, digest (SHA-256), write
into the store, and scan with ClamAV when it is configured (``security.antivirus``) — and only
when every file of the upload is acceptable are the blobs committed and the pages recorded, in
one transaction with the audit event. A refused file or any failure leaves no page and no
temporary file behind.

The SM3 digest of a file is computed after the bytes are stored, by one task per upload queued
when the transaction that created the blobs commits (``fill_sm3_task``); whatever needs it
sooner calls ``ensure_sm3``. A blob whose task never ran (the worker stopped) is filled by the
next fixity round (``fill_missing_sm3``). Bytes the archive made itself in memory (a page's
searchable PDF and thumbnails, ``keep_bytes``) are small: their SM3 is computed beside the
write and goes into the blob's first ledger entry, so they queue no task at all.
"""

import io
import logging
import os
import re
import unicodedata
from collections.abc import Iterable
from contextlib import ExitStack

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils.translation import gettext as _

from dangan.accounts.selectors import may_write_record
from dangan.audit.models import AuditEvent
from dangan.audit.services import Event, record_event, record_events
from dangan.catalogue.models import Record
from dangan.security.antivirus import UploadScan

from .digests import digest_stream
from .digests import sm3 as new_sm3
from .formats import FileFormat, Identifier
from .models import Blob, Page, PreservationEvent
from .signals import blob_sm3_known, blobs_stored, pages_added, rendition_made
from .stores import CHUNK_BYTES, blob_key, commit_together, get_store

log = logging.getLogger(__name__)

_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
MAX_FILENAME = 200


def sanitize_filename(name: str) -> str:
    """A file name safe to keep and to offer for download: no directories, no control or
    reserved characters, no leading dots, at most ``MAX_FILENAME`` characters (extension kept)."""
    name = unicodedata.normalize("NFC", str(name or ""))
    name = re.split(r"[/\\]", name)[-1]
    name = _UNSAFE.sub("_", name).strip(" .")
    if len(name) > MAX_FILENAME:
        stem, extension = os.path.splitext(name)
        extension = extension[:20]
        name = stem[: MAX_FILENAME - len(extension)] + extension
    return name or "file"


def _chunks(stream) -> Iterable[bytes]:
    if hasattr(stream, "chunks"):  # Django's UploadedFile (rewinds itself)
        yield from stream.chunks(CHUNK_BYTES)
        return
    while chunk := stream.read(CHUNK_BYTES):
        yield chunk


def _blob_row(stored, file_format: FileFormat, *, sm3_hex: str = "") -> tuple[Blob, bool]:
    """The row of bytes committed to the store (found, or created with ``sm3_hex``, which is
    empty when the SM3 is left to ``fill_sm3_task``)."""
    return Blob.objects.get_or_create(
        sha256=stored.sha256,
        defaults={
            "size": stored.size,
            "mime": file_format.mime,
            "format_name": file_format.name,
            "format_version": file_format.version,
            "puid": file_format.puid,
            "sm3": sm3_hex,
        },
    )


def _fill_sm3_after_commit(blobs: list[Blob]) -> None:
    """Queue the SM3 of new ``blobs`` for when the transaction that created them commits."""
    ids = [blob.pk for blob in blobs]
    if ids:
        from .tasks import fill_sm3_task

        transaction.on_commit(lambda: fill_sm3_task.enqueue(ids))


def ensure_sm3(blob: Blob) -> str:
    """The SM3 digest of ``blob``: when still empty, computed from the stored bytes (their
    SHA-256 and size checked on the same read) and saved with its ``content.sm3`` ledger entry.

    Idempotent, and safe when two run at once: the row is only updated while its SM3 is
    empty, so the digest and its ledger entry are written once. Raises ``ValueError`` when the
    stored bytes are no longer the blob's (the fixity audit names such a blob) and the store's
    error when they are missing."""
    if not blob.sm3:
        blob.sm3 = Blob.objects.filter(pk=blob.pk).values_list("sm3", flat=True).first() or ""
    if blob.sm3:
        return blob.sm3
    stream = get_store().open(blob.key)
    try:
        sha256, sm3, size = digest_stream(stream, CHUNK_BYTES)
    finally:
        stream.close()
    if (sha256, size) != (blob.sha256, blob.size):
        raise ValueError(
            _("Blob %(sha)s changed in the store: %(size)d bytes with SHA-256 %(found)s.")
            % {"sha": blob.sha256, "size": size, "found": sha256}
        )
    with transaction.atomic():
        if Blob.objects.filter(pk=blob.pk, sm3="").update(sm3=sm3):
            blob_sm3_known.send(sender=Blob, blob=blob, sm3=sm3)
    blob.sm3 = sm3
    return sm3


def fill_missing_sm3() -> int:
    """Compute every SM3 still missing — blobs whose task did not run because the worker
    stopped — and return how many were filled. A blob that cannot be read is logged and left
    for the fixity audit to name."""
    filled = 0
    for blob in Blob.objects.filter(sm3="").order_by("pk").iterator(chunk_size=500):
        try:
            ensure_sm3(blob)
        except Exception as error:  # a missing or changed blob: the fixity audit reports it
            log.warning("SM3 of blob %s not computed: %s", blob.sha256, error)
            continue
        filled += 1
    return filled


def _check_writable(actor, record):
    """``actor`` None is the system itself (an operator's command), as in the catalogue."""
    if actor is not None and not may_write_record(actor, record):
        raise PermissionDenied(_("You may not add or change the files of this record."))


def add_files(*, actor, record: Record, files: list[tuple[str, object]]) -> list[Page]:
    """Add ``files`` — ``(name, binary stream)`` pairs, in page order — after the record's
    last page. All or nothing: one refused file refuses the upload, naming every bad file."""
    _check_writable(actor, record)
    if not files:
        raise ValidationError(_("Choose at least one file."), code="no_files")
    return _record_pages(actor=actor, record=record, stored=_receive(actor, files, record=record))


def stage_files(*, actor, files: list[tuple[str, object]]) -> list[tuple[str, Blob]]:
    """Store ``files`` — ``(name, binary stream)`` pairs — as blobs linked to no record yet (a
    filing waiting in the pre-archive queue), all or nothing like ``add_files``: one refused
    file stores none. Returns ``(sanitized name, Blob)`` in order. Call it inside the
    transaction that links the blobs, so that a later refusal leaves no blob row behind."""
    stored = _receive(actor, files) if files else []
    kept, new_blobs = [], []
    with transaction.atomic():
        for name, file_format, blob in stored:
            row, created = _blob_row(blob, file_format)
            if created:
                new_blobs.append(row)
            kept.append((name, row))
        if new_blobs:
            blobs_stored.send(sender=Blob, actor=None, blobs=new_blobs, record=None)
            _fill_sm3_after_commit(new_blobs)
    return kept


def _receive(actor, files, *, record=None) -> list[tuple]:
    """Identify, scan and write ``files`` into the store; ``(name, FileFormat, StoredBlob)``.
    After a refusal nothing more is stored, and the refusal (naming every bad file) is raised
    before anything is committed."""
    store = get_store()
    errors, staged = [], []
    with ExitStack() as stack:
        for name, stream in files:
            name = sanitize_filename(name)
            identifier = Identifier(name)
            # After a refusal nothing more is stored: the rest are only identified, so that
            # the message names every file that cannot be kept.
            incoming = None if errors else stack.enter_context(store.receive())
            scan = None if errors else UploadScan.start(name)
            try:
                for chunk in _chunks(stream):
                    identifier.feed(chunk)
                    if incoming is not None:
                        incoming.write(chunk)
                    if scan is not None:
                        scan.feed(chunk)
                file_format = identifier.finish()
                if scan is not None:
                    scan.finish()
                if incoming is not None:
                    incoming.finish_writing()  # the disk syncs it while the next is written
            except ValidationError as error:
                errors.append(error)
                continue
            finally:
                if scan is not None:
                    scan.close()
            staged.append((name, file_format, incoming))
        if errors:
            audit_refusals(actor, errors, record=record)
            raise ValidationError(errors)
        blobs = commit_together([incoming for _, _, incoming in staged])
        return [
            (name, file_format, blob)
            for (name, file_format, _), blob in zip(staged, blobs, strict=True)
        ]


#: Refusals that are security events (code: the parameter that names what was found): a virus,
#: and an Office document carrying macros, which run programs when the document is opened.
_MALICIOUS = {"virus_found": "finding", "format_macro": "kind"}


def audit_refusals(actor, errors, *, record=None) -> None:
    """Write each upload refused as malicious among ``errors`` (``ValidationError`` objects, or one
    holding several) to the audit trail: a security event, which the security auditor reviews,
    beside the log line the scanner wrote. ``add_files`` and ``keep_file`` call it; a caller
    that holds them in a transaction of its own which the refusal rolls back calls it again
    after the rollback."""
    if isinstance(errors, ValidationError):
        errors = errors.error_list
    events = [
        Event(
            action=AuditEvent.Action.REFUSE,
            obj=record,
            detail={
                "reason": error.code,
                "file": error.params["name"],
                "finding": error.params[_MALICIOUS[error.code]],
            },
        )
        for error in errors
        if getattr(error, "code", None) in _MALICIOUS
    ]
    record_events(actor=actor, events=events)


def _record_pages(*, actor, record, stored) -> list[Page]:
    with transaction.atomic():
        # Lock the record so that two uploads to it number their pages one after the other.
        Record.objects.select_for_update().filter(pk=record.pk).exists()
        last = (
            Page.objects.filter(record=record, role=Page.Role.ORIGINAL).aggregate(
                last=Max("position")
            )["last"]
            or 0
        )
        pages, new_blobs = [], []
        for offset, (name, file_format, blob) in enumerate(stored, start=1):
            row, created = _blob_row(blob, file_format)
            if created:
                new_blobs.append(row)
            pages.append(
                Page(
                    record=record,
                    blob=row,
                    position=last + offset,
                    filename=name,
                    created_by=actor if getattr(actor, "pk", None) else None,
                )
            )
        Page.objects.bulk_create(pages)
        blobs_stored.send(sender=Blob, actor=actor, blobs=new_blobs, record=record)
        _fill_sm3_after_commit(new_blobs)
        pages_added.send(sender=Page, pages=pages, actor=actor)
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=record,
            detail={
                "change": "pages_added",
                "pages": [
                    {
                        "page": page.pk,
                        "position": page.position,
                        "filename": page.filename,
                        "sha256": page.blob.sha256,
                        "size": page.blob.size,
                        "format": page.blob.format_label,
                    }
                    for page in pages
                ],
            },
        )
    return pages


def reorder_pages(*, actor, record: Record, order: list[int]) -> list[Page]:
    """Put the record's pages in ``order`` (page ids, each original page exactly once)."""
    _check_writable(actor, record)
    with transaction.atomic():
        pages = list(
            Page.objects.select_for_update()
            .filter(record=record, role=Page.Role.ORIGINAL)
            .order_by("position")
        )
        before = [page.pk for page in pages]
        order = [int(pk) for pk in order]
        if sorted(order) != sorted(before):
            raise ValidationError(
                _("The new order must list every page of the record once."),
                code="page_order_mismatch",
            )
        if order == before:
            return pages
        by_pk = {page.pk: page for page in pages}
        # Through negative numbers, so that no two pages share a place between the statements.
        Page.objects.filter(pk__in=order).update(position=-F("position"))
        for position, pk in enumerate(order, start=1):
            by_pk[pk].position = position
        Page.objects.bulk_update(by_pk.values(), ["position"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=record,
            before={"page_order": before},
            after={"page_order": order},
            detail={"change": "pages_reordered"},
        )
    return [by_pk[pk] for pk in order]


def move_page(*, actor, record: Record, page_id: int, offset: int) -> list[Page]:
    """Move one page ``offset`` places (-1 up, +1 down), for the buttons of the page list."""
    order = list(
        Page.objects.filter(record=record, role=Page.Role.ORIGINAL)
        .order_by("position")
        .values_list("pk", flat=True)
    )
    if page_id not in order:
        raise ValidationError(_("That page is not in this record."), code="page_not_in_record")
    index = order.index(page_id)
    target = min(max(index + offset, 0), len(order) - 1)
    order.insert(target, order.pop(index))
    return reorder_pages(actor=actor, record=record, order=order)


def keep_bytes(*, name: str, data: bytes) -> Blob:
    """Store bytes the archive made itself (a searchable PDF, a thumbnail); see ``keep_file``.
    They come from files that were scanned on their way in, so they are not scanned again.

    They are in memory and small (a few hundred kB): their SM3 costs a millisecond here, where
    a task would write a queue row, read the blob back from the store and append a ledger
    entry of its own — three times for every page the pipeline reads."""
    digest = new_sm3()
    digest.update(data)
    return keep_file(name=name, stream=io.BytesIO(data), scan=False, sm3_hex=digest.hexdigest())


def keep_file(*, name: str, stream, scan: bool = True, sm3_hex: str = "", actor=None) -> Blob:
    """Stream one file into the store and return its blob, linked to no record yet (a file
    staged for a hand-over, a completed resumable upload). Refused formats and, when ClamAV
    is configured, malicious files raise ``ValidationError`` and leave nothing behind.

    ``sm3_hex``, the SM3 of the same bytes when the caller has it, is kept at once; without it
    a task fills it in after the commit. ``actor``: who sent the file (None: the system), named
    in the audit trail when it is refused as malicious."""
    identifier = Identifier(sanitize_filename(name))
    scan = UploadScan.start(sanitize_filename(name)) if scan else None
    try:
        with get_store().receive() as incoming:
            try:
                for chunk in _chunks(stream):
                    identifier.feed(chunk)
                    incoming.write(chunk)
                    if scan is not None:
                        scan.feed(chunk)
                file_format = identifier.finish()
            except ValidationError as error:
                audit_refusals(actor, [error])
                raise
            if scan is not None:
                try:
                    scan.finish()
                except ValidationError as error:
                    audit_refusals(actor, [error])
                    raise
            stored = incoming.commit()
    finally:
        if scan is not None:
            scan.close()
    with transaction.atomic():
        blob, created = _blob_row(stored, file_format, sm3_hex=sm3_hex)
        if created:
            blobs_stored.send(sender=Blob, actor=None, blobs=[blob], record=None)
            if not blob.sm3:
                _fill_sm3_after_commit([blob])
    return blob


def attach_blobs(*, actor, record: Record, files: list[tuple[str, Blob]]) -> list[Page]:
    """Add blobs already in the store (``(file name, Blob)`` pairs, in page order) as pages of
    ``record``, audited like an upload. Call it inside the transaction that needs it whole."""
    _check_writable(actor, record)
    stored = [
        (name, FileFormat(blob.format_name, blob.mime, blob.format_version, blob.puid), blob)
        for name, blob in files
    ]
    return _record_pages(actor=actor, record=record, stored=stored)


def rekey_store(*, progress=None, drop_old: bool = False) -> dict:
    """重新封装密钥 (key rotation): wrap every blob's data key with the current key-encryption
    key. Only headers are rewritten — the chunks are copied, never decrypted — and blobs
    stored before encryption was turned on are encrypted. Audited as one event of the system.

    With ``drop_old``, when no blob failed, the retired keys leave the key file."""
    from .encryption import ContentIntegrityError, drop_old_keks
    from .stores import EncryptingStore

    store = get_store()
    if not isinstance(store, EncryptingStore):
        raise ValidationError(
            _("Encryption at rest is off (DANGAN_CONTENT_ENCRYPTION): there is nothing to rekey."),
            code="encryption_off",
        )
    counts = {"current": 0, "rewrapped": 0, "encrypted": 0, "missing": 0, "failed": 0}
    problems = []
    keys = list(Blob.objects.order_by("pk").values_list("sha256", flat=True))
    for n, sha256 in enumerate(keys, start=1):
        key = blob_key(sha256)
        try:
            counts[store.rekey(key)] += 1
        except FileNotFoundError:
            counts["missing"] += 1
        except (ContentIntegrityError, OSError) as error:
            counts["failed"] += 1
            problems.append({"blob": sha256, "problem": str(error)[:300]})
        except Exception as error:  # an S3 error: NoSuchKey is a missing blob, others fail
            if "NoSuchKey" in type(error).__name__ or "404" in str(error):
                counts["missing"] += 1
            else:
                counts["failed"] += 1
                problems.append({"blob": sha256, "problem": f"{type(error).__name__}: {error}"})
        if progress is not None:
            progress(n, len(keys))
    dropped = False
    if drop_old and not counts["failed"] and not counts["missing"]:
        drop_old_keks()
        get_store.cache_clear()
        dropped = True
    summary = {
        "algorithm": store.algorithm,
        "kek": store.keks[0].id.hex(),
        "blobs": len(keys),
        **counts,
        "old_keys_dropped": dropped,
        "problems": problems,
    }
    record_event(
        actor=None,
        action=AuditEvent.Action.UPDATE,
        object_type="content.store",
        object_repr=str(store),
        detail={"change": "rekey", **{k: v for k, v in summary.items() if k != "problems"}},
    )
    return summary


def record_rendition(*, original: Page, blob: Blob, agent: str) -> Page:
    """Keep ``blob`` (a PDF/A made from ``original`` by ``agent``, e.g. "LibreOffice 7.4.7.2")
    as the original's rendition: a page of role ``rendition`` derived from it, a successful
    ``migration`` preservation event, ``signals.rendition_made`` (the ledger's
    ``content.rendered`` entry) and an audit event of the system. Call it
    inside the transaction that marks the original's processing done, so it happens once."""
    with transaction.atomic():
        rendition = Page.objects.create(
            record_id=original.record_id,
            blob=blob,
            position=original.position,
            role=Page.Role.RENDITION,
            derived_from=original,
            filename=os.path.splitext(original.filename)[0][: MAX_FILENAME - 4] + ".pdf",
        )
        PreservationEvent.objects.create(
            page=original,
            kind=PreservationEvent.Kind.MIGRATION,
            outcome=PreservationEvent.Outcome.SUCCESS,
            agent=agent,
            source=original.blob,
            result=blob,
            detail=blob.format_label,
        )
        rendition_made.send(sender=Page, original=original, rendition=rendition, agent=agent)
        record_event(
            actor=None,
            action=AuditEvent.Action.UPDATE,
            obj=original.record,
            detail={
                "change": "rendition_made",
                "page": original.pk,
                "rendition": rendition.pk,
                "from_sha256": original.blob.sha256,
                "sha256": blob.sha256,
                "agent": agent,
            },
        )
    return rendition


def record_rendition_failure(*, original: Page, agent: str, reason: str) -> PreservationEvent:
    """Write that ``agent`` could not render ``original``: the original stays kept as received;
    the record's files show the reason, and *Read again* tries once more."""
    return PreservationEvent.objects.create(
        page=original,
        kind=PreservationEvent.Kind.MIGRATION,
        outcome=PreservationEvent.Outcome.FAILURE,
        agent=agent,
        source=original.blob,
        detail=reason[:2000],
    )
