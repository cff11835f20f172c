"""Batch scan ingest (批量挂接): a folder tree with one folder per record.

A folder is named by the record's archival code or its legacy archive number; inside are the
page images (``0001.jpg``, ``0002.tif`` …) or PDFs, in page order by their number. Matched
folders are attached a few pages at a time (``GROUP_PAGES``), each group in its own transaction
and its files synced to disk together, so an interrupted batch simply continues when run again; a
file already on the record (same SHA-256) is not added twice. A group with a file that cannot be
kept is added again page by page, so that the bad file is reported and the others kept. Folders
that match no record, files that cannot be kept, links and gaps in the page numbers are reported
— never guessed.
"""

import hashlib
import logging
import os
import re
from contextlib import ExitStack
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.catalogue import services as catalogue_services
from dangan.catalogue.models import Record
from dangan.content import services as content_services
from dangan.content.models import Page
from dangan.core.hooks import Hook
from dangan.people.services import resolve_persons

from . import suggestions
from .models import PageProcessing, ScanBatch
from .ocr import get_engine
from .services import _pdf_text, _render_pdf, queue_pages

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"^(\d{1,6})(?:\D|$)")
#: New pages of a folder added in one transaction, their files synced to disk together.
GROUP_PAGES = 16
#: The files whose text an unnamed folder's first page is read from.
READABLE = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".jp2", ".bmp", ".pdf"}

#: What the first page of a folder that matches no record says, field by field, and where the
#: classifier would put it: ``{"fields": {field: [values]}, "proposal": {"category", "retention",
#: "unit", "confidence"}}`` (answered by assist: ``assist.selectors.unnamed_page_help``).
read_unnamed_page = Hook("what the first page of an unnamed scan folder says")


def start_batch(*, actor, folder) -> ScanBatch:
    """Open a batch for ``folder`` (it must exist); the work is done by ``run_batch``.

    A batch started from the web (``actor`` set) must lie inside ``DANGAN_SCAN_ROOT``: staff
    choose among the scanning station's folders, not anywhere on the server.
    """
    path = Path(folder).resolve()
    if not path.is_dir():
        raise ValidationError(
            _("There is no folder %(path)s.") % {"path": folder}, code="no_folder"
        )
    if actor is not None:
        root = Path(settings.DANGAN_SCAN_ROOT).resolve()
        if path != root and root not in path.parents:
            raise PermissionDenied(_("Scans are taken only from the scanning folder."))
    return ScanBatch.objects.create(
        source=str(path), created_by=actor if getattr(actor, "pk", None) else None
    )


def _page_number(name: str) -> int | None:
    match = _NUMBER.match(name)
    return int(match.group(1)) if match else None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def _records_named(name: str):
    return list(Record.objects.filter(Q(archival_code=name) | Q(legacy_number=name))[:2])


def run_batch(batch_id) -> dict:
    """Attach every folder of the batch; returns (and keeps on the batch) the report."""
    batch = ScanBatch.objects.select_related("created_by").get(pk=batch_id)
    actor = batch.created_by
    report = {
        "batch": batch.pk,
        "records": 0,
        "pages": 0,
        "skipped": 0,
        "unmatched": [],
        "ambiguous": [],
        "errors": [],
        "gaps": [],
    }
    root = Path(batch.source)
    for folder, subfolders, files in os.walk(root, followlinks=False):
        subfolders.sort()
        folder = Path(folder)
        for name in subfolders:
            if (folder / name).is_symlink():
                report["errors"].append(
                    {
                        "folder": name,
                        "file": "",
                        "code": "link",
                        "message": _("A link is not followed."),
                    }
                )
        files = sorted(f for f in files if not f.startswith("."))
        if not files or folder == root:
            continue
        _attach_folder(folder, files, actor=actor, batch=batch, report=report)
    batch.report = report
    batch.finished_at = timezone.now()
    batch.save(update_fields=["report", "finished_at"])
    return report


def _attach_folder(folder: Path, files: list[str], *, actor, batch, report) -> None:
    name = folder.name
    records = _records_named(name)
    if not records:
        report["unmatched"].append(name)
        reading = read_first_page(folder, files)
        reading["path"] = str(folder.relative_to(batch.source))
        report.setdefault("unnamed", {})[name] = reading
        return
    if len(records) > 1:
        report["ambiguous"].append(name)
        return
    report["records"] += 1
    _attach_to(records[0], folder, files, actor=actor, batch=batch, report=report)


def _in_page_order(files: list[str]) -> list[str]:
    return sorted(files, key=lambda f: (_page_number(f) is None, _page_number(f) or 0, f))


def read_first_page(folder: Path, files: list[str]) -> dict:
    """What the first page of ``folder`` says (read here, once): ``file``, ``fields`` (by the
    record form's field names), ``proposal`` (the classifier's, ``category`` None when unsure),
    ``records`` (ids of the records of a person whose ID number the page shows: the folder may
    be one of theirs, misnamed) and ``error`` when the page could not be read."""
    reading = {"file": "", "fields": {}, "proposal": None, "records": [], "error": ""}
    first = next(
        (
            f
            for f in _in_page_order(files)
            if Path(f).suffix.lower() in READABLE
            and (folder / f).is_file()
            and not (folder / f).is_symlink()
        ),
        None,
    )
    if first is None:
        return reading
    reading["file"] = first
    try:
        text = _text_of(folder / first)
    except Exception as error:  # an unreadable scan: said on the screen, the folder still listed
        log.warning("the first page of an unnamed folder could not be read: %s", error)
        reading["error"] = f"{type(error).__name__}: {error}"[:500]
        return reading
    reading.update(read_unnamed_page(text))
    numbers = [n.number for n in suggestions.suggest_metadata(text).id_numbers]
    if numbers:
        reading["records"] = list(
            Record.objects.filter(persons__id_number__in=numbers)
            .exclude(state=Record.State.DESTROYED)
            .order_by("pk")
            .values_list("pk", flat=True)
            .distinct()[:10]
        )
    return reading


def _text_of(path: Path) -> str:
    return read_text(path.read_bytes(), pdf=path.suffix.lower() == ".pdf")


def read_text(data: bytes, *, pdf: bool) -> str:
    """The text of one scanned file's first page: a PDF's own text, or what OCR reads on it."""
    if pdf:
        text = _pdf_text(data)
        if text.strip():
            return text
        images = _render_pdf(data)[:1]
        return get_engine().recognize(images[0]).text if images else ""
    return get_engine().recognize(data).text


def _attach_to(record, folder: Path, files: list[str], *, actor, batch, report) -> None:
    name = folder.name
    numbered = _in_page_order(files)
    numbers = [n for n in map(_page_number, numbered) if n is not None]
    if numbers:
        missing = sorted(set(range(1, max(numbers) + 1)) - set(numbers))
        if missing:
            report["gaps"].append({"folder": name, "missing": missing})
    kept = {
        page.blob.sha256: page
        for page in Page.objects.filter(record=record, role=Page.Role.ORIGINAL).select_related(
            "blob"
        )
    }
    group = []  # (file name, path, digest): new pages, added together
    for file_name in numbered:
        path = folder / file_name
        if path.is_symlink() or not path.is_file():
            report["errors"].append(
                {
                    "folder": name,
                    "file": file_name,
                    "code": "link",
                    "message": _("A link is not followed."),
                }
            )
            continue
        digest = _sha256(path)
        if any(digest == d for _, _, d in group):
            _add_pages(
                group, name=name, record=record, actor=actor, batch=batch, report=report, kept=kept
            )
            group = []
        if digest in kept:  # there from an earlier run: make sure it is read, in this batch
            report["skipped"] += 1
            _resume(kept[digest], batch)
            continue
        group.append((file_name, path, digest))
        if len(group) == GROUP_PAGES:
            _add_pages(
                group, name=name, record=record, actor=actor, batch=batch, report=report, kept=kept
            )
            group = []
    _add_pages(group, name=name, record=record, actor=actor, batch=batch, report=report, kept=kept)


def _add_pages(group, *, name, record, actor, batch, report, kept) -> None:
    """Add the pages of ``group`` in one transaction (their blobs committed together). If that
    is refused, the files it names are reported and the others added one by one."""
    if not group:
        return
    try:
        # Not inside a transaction of ours: add_files has its own, and the audit entry of a
        # refused file must stay. A crash before the batch is set is mended by the next run
        # (the page is found by its digest and taken into that run's batch).
        with ExitStack() as streams:
            files = [
                (file_name, streams.enter_context(path.open("rb"))) for file_name, path, _ in group
            ]
            pages = content_services.add_files(actor=actor, record=record, files=files)
        PageProcessing.objects.filter(page__in=pages).update(batch=batch)
    except (ValidationError, PermissionDenied, OSError) as error:
        refused = {}
        if isinstance(error, ValidationError):
            for one in error.error_list:
                file_name = (one.params or {}).get("name")
                if file_name and file_name not in refused:
                    refused[file_name] = one
        if len(group) == 1 and not refused:
            refused[group[0][0]] = error
        for file_name, one in refused.items():
            report["errors"].append({"folder": name, "file": file_name, **_problem(one)})
        for one in group:
            if one[0] not in refused:
                _add_pages(
                    [one],
                    name=name,
                    record=record,
                    actor=actor,
                    batch=batch,
                    report=report,
                    kept=kept,
                )
        return
    for page in pages:
        kept[page.blob.sha256] = page
    report["pages"] += len(pages)


def _problem(error) -> dict:
    """The report's ``code`` and ``message`` for a refused or unreadable file."""
    if isinstance(error, OSError):
        return {"code": "unreadable", "message": str(error)}
    code = getattr(error, "code", None) or (
        error.error_list[0].code if hasattr(error, "error_list") else None
    )
    message = "; ".join(getattr(error, "messages", [str(error)]))
    return {"code": code or "refused", "message": message}


def _resume(page: Page, batch: ScanBatch) -> None:
    queue_pages([page], batch=batch)
    PageProcessing.objects.filter(page=page).exclude(state=PageProcessing.State.DONE).update(
        batch=batch
    )


def _unnamed(batch: ScanBatch, name: str) -> tuple[Path, list[str]]:
    """The folder ``name`` of the batch that matched no record, and its files."""
    reading = (batch.report.get("unnamed") or {}).get(name)
    if reading is None or reading.get("record"):
        raise ValidationError(
            _("The folder %(name)s is not waiting to be catalogued.") % {"name": name},
            code="not_unnamed",
        )
    root = Path(batch.source).resolve()
    folder = (root / reading.get("path", name)).resolve()
    if root not in folder.parents or not folder.is_dir():
        raise ValidationError(
            _("The folder %(name)s is no longer in the scanning folder.") % {"name": name},
            code="no_folder",
        )
    files = sorted(f.name for f in folder.iterdir() if f.is_file() and not f.name.startswith("."))
    return folder, files


def attach_folder(*, actor, batch: ScanBatch, name: str, record: Record) -> dict:
    """Attach the pages of the batch's unnamed folder ``name`` to ``record`` (the archivist's
    choice on the folder's screen); the batch's report says where the folder went."""
    folder, files = _unnamed(batch, name)
    if record.state == Record.State.DESTROYED:
        raise ValidationError(
            _("%(record)s was destroyed; nothing can be added to it.") % {"record": record},
            code="record_destroyed",
        )
    added = {"pages": 0, "skipped": 0, "errors": [], "gaps": []}
    _attach_to(record, folder, files, actor=actor, batch=batch, report=added)
    with transaction.atomic():
        batch = ScanBatch.objects.select_for_update().get(pk=batch.pk)
        report = batch.report
        report["unnamed"][name]["record"] = record.pk
        report["records"] = report.get("records", 0) + 1
        for key in ("pages", "skipped"):
            report[key] = report.get(key, 0) + added[key]
        for key in ("errors", "gaps"):
            report[key] = report.get(key, []) + added[key]
        batch.save(update_fields=["report"])
    return added


def catalogue_folder(
    *, actor, batch: ScanBatch, name: str, fonds, category, values, metadata, entries, file=True
) -> Record:
    """A new record for the batch's unnamed folder ``name``, described as the archivist filled
    its form (taking what the first page says, or not), with the folder's pages attached."""
    _unnamed(batch, name)  # still waiting, still there: before anything is made
    with transaction.atomic():
        persons = list(resolve_persons(actor=actor, entries=entries).values()) if entries else []
        record = catalogue_services.create_record(
            actor=actor,
            fonds=fonds,
            category=category,
            values=values,
            metadata=metadata,
            persons=persons,
            file=file,
        )
    attach_folder(actor=actor, batch=batch, name=name, record=record)
    return record
