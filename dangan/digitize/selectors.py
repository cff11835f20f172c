"""Reading pages and their OCR results, always through the records the user may see (the
operator's commands, which run as the system, read a record by its number)."""

import json
import re

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.models import Category, Record, RecordRelation
from dangan.catalogue.selectors import visible_records
from dangan.content.models import Page
from dangan.content.selectors import open_blob
from dangan.people.id_numbers import mask
from dangan.security.logmasking import mask_id_numbers
from dangan.security.permissions import has_permission

from .models import PageProcessing, ScanBatch

#: What the viewer may fetch of a page, and whether fetching it counts as a download.
DERIVATIVES = {"thumbnail": False, "preview": False, "pdf": True}


def may_bring_in_scans(user) -> bool:
    """Scan batches from the scanning station (archivists by default)."""
    return has_permission(user, "digitize.scan")


def visible_pages(user):
    return Page.objects.filter(record__in=visible_records(user), role=Page.Role.ORIGINAL)


def page_for_viewer(user, pk) -> tuple[Page, Page | None, Page | None]:
    """A page with its reading, and the pages before and after it; the viewing is audited.

    ``Page.DoesNotExist`` when the record is not visible (callers answer 404).
    """
    page = visible_pages(user).select_related("blob", "record", "processing").get(pk=pk)
    siblings = Page.objects.filter(record=page.record, role=Page.Role.ORIGINAL)
    previous = siblings.filter(position__lt=page.position).order_by("-position").first()
    following = siblings.filter(position__gt=page.position).order_by("position").first()
    record_event(
        actor=user,
        action=AuditEvent.Action.READ,
        obj=page.record,
        detail={"page": page.pk, "position": page.position},
    )
    return page, previous, following


def open_derivative(user, pk, kind: str):
    """(blob, stream) of a page's thumbnail, preview or searchable PDF; a PDF is a download and
    audited. ``PageProcessing.DoesNotExist`` when not visible or not made (yet)."""
    row = PageProcessing.objects.select_related("page__record").get(
        page__in=visible_pages(user), page=pk
    )
    blob = {"thumbnail": row.thumbnail, "preview": row.preview, "pdf": row.searchable_pdf}[kind]
    if blob is None:
        raise PageProcessing.DoesNotExist
    stream = open_blob(blob)  # first: a file that cannot be read was not downloaded
    if DERIVATIVES[kind]:
        record_event(
            actor=user,
            action=AuditEvent.Action.DOWNLOAD,
            obj=row.page.record,
            detail={"page": row.page_id, "file": "searchable_pdf", "sha256": blob.sha256},
        )
    return blob, stream


def recent_batches(user, limit=20):
    """Scan batches for the batch page: everyone's for an archivist, none for others."""
    if not may_bring_in_scans(user):
        return ScanBatch.objects.none()
    return ScanBatch.objects.select_related("created_by")[:limit]


def batch_progress(batch) -> dict:
    rows = PageProcessing.objects.filter(batch=batch)
    counts = {state: 0 for state in PageProcessing.State.values}
    for state in rows.values_list("state", flat=True):
        counts[state] += 1
    counts["total"] = sum(counts.values())
    counts["finished"] = (
        batch.finished_at is not None and counts["pending"] + counts["running"] == 0
    )
    return counts


#: A folder name that looks like an archive number (SYTG-00012, 1993-0045): offered as the new
#: record's legacy number.
_LOOKS_LIKE_A_NUMBER = re.compile(r"^[\w.·-]*\d[\w.·-]*$")


_SAID = {
    "persons": gettext_lazy("Persons"),
    "title": gettext_lazy("Title"),
    "date": gettext_lazy("Date"),
    "doc_number": gettext_lazy("Document number"),
    "responsible": gettext_lazy("Responsible party"),
}


def unnamed_folders(user, batch) -> list[dict]:
    """The batch's folders that matched no record, in the report's order, each with what its
    first page says: ``name``, ``file``, ``suggestions`` (by the record form's field names),
    ``said`` ((label, values) to read, ID numbers masked), ``proposal`` (the classifier's category
    with its ``name`` and ``percent``, or None when unsure), ``records`` (the user's visible
    records of a person the page names), ``record`` (where the folder went, once decided) and
    ``error`` (the page could not be read)."""
    unnamed = (batch.report or {}).get("unnamed") or {}
    names = list((batch.report or {}).get("unmatched") or [])
    wanted = {pk for reading in unnamed.values() for pk in reading.get("records", [])}
    wanted |= {r["record"] for r in unnamed.values() if r.get("record")}
    visible = visible_records(user).filter(pk__in=wanted).in_bulk() if wanted else {}
    category_names = dict(Category.objects.values_list("code", "name"))
    folders = []
    for index, name in enumerate(names):
        reading = unnamed.get(name) or {}
        suggestions = dict(reading.get("fields") or {})
        if _LOOKS_LIKE_A_NUMBER.match(name):
            suggestions["legacy_number"] = [name]
        proposal = reading.get("proposal") or None
        if proposal and proposal.get("category"):
            proposal = {
                **proposal,
                "name": category_names.get(proposal["category"], ""),
                "percent": round(100 * proposal["confidence"]),
            }
        else:
            proposal = None
        fields = reading.get("fields") or {}
        said = [
            (label, [mask_id_numbers(v) for v in fields[key]])
            for key, label in _SAID.items()
            if fields.get(key)
        ]
        folders.append(
            {
                "index": index,
                "name": name,
                "file": reading.get("file", ""),
                "read": "fields" in reading or "error" in reading,
                "suggestions": suggestions,
                "said": said,
                "proposal": proposal,
                "records": [visible[pk] for pk in reading.get("records", []) if pk in visible],
                "record": visible.get(reading.get("record")),
                "done": bool(reading.get("record")),
                "error": reading.get("error", ""),
            }
        )
    return folders


def record_by_number(number: str):
    """The one record whose archival code (or, failing that, legacy number) is ``number``, for
    the operator's commands; ``ValidationError`` when none or several have it."""
    found = list(Record.objects.filter(archival_code=number)[:1]) or list(
        Record.objects.filter(Q(legacy_number=number))[:2]
    )
    if not found:
        raise ValidationError(_("No record has the number %(n)s.") % {"n": number}, code="none")
    if len(found) > 1:
        raise ValidationError(
            _("More than one record has the number %(n)s.") % {"n": number}, code="several"
        )
    return found[0]


def record_pages(record) -> dict:
    """``dangan pages``: a record's original pages in order with their state, warnings and OCR
    text, every ID number masked (the text of a page is personal data). The reading is audited
    (the system's)."""
    rows = []
    pages = (
        Page.objects.filter(record=record, role=Page.Role.ORIGINAL)
        .select_related("blob", "processing")
        .order_by("position")
    )
    for page in pages:
        processing = getattr(page, "processing", None)
        rows.append(
            {
                "page": page.position,
                "file": page.filename,
                "format": page.blob.format_label,
                "sha256": page.blob.sha256,
                "state": processing.state if processing else "none",
                "error": processing.error if processing else "",
                "warnings": (processing.checks or {}).get("warnings", []) if processing else [],
                "text": processing.text if processing else "",
            }
        )
    record_event(
        actor=None,
        action=AuditEvent.Action.READ,
        obj=record,
        detail={"via": "dangan pages"},
    )
    listing = {
        "record": record.archival_code or record.legacy_number,
        "title": record.title,
        "pages": rows,
    }
    return json.loads(mask_id_numbers(json.dumps(listing, ensure_ascii=False)))


def record_card(record) -> dict:
    """``dangan record``: one record as an operator sees it — its description, its volume or
    its items in order, its relations both ways, its persons and its files (originals and
    their renditions) — with every ID number masked. The reading is audited (the system's)."""

    def code(other):
        return other.archival_code or other.legacy_number or None

    relations = [
        {"kind": r.kind, "direction": "out", "code": code(r.target), "title": r.target.title}
        for r in RecordRelation.objects.filter(source=record).select_related("target")
    ] + [
        {"kind": r.kind, "direction": "in", "code": code(r.source), "title": r.source.title}
        for r in RecordRelation.objects.filter(target=record).select_related("source")
    ]
    files = []
    pages = Page.objects.filter(record=record).select_related("blob", "processing")
    for page in pages.order_by("position", "role", "pk"):
        if page.role not in (Page.Role.ORIGINAL, Page.Role.RENDITION):
            continue
        processing = getattr(page, "processing", None)
        files.append(
            {
                "name": page.filename,
                "format": page.blob.format_label,
                "puid": page.blob.puid,
                "role": page.role,
                "page": page.position,
                "sha256": page.blob.sha256,
                "state": processing.state if processing else None,
            }
        )
    persons = [
        {"name": person.name, "id_number": mask(person.id_number)}
        for person in record.persons.order_by("name", "id_number")
    ]
    card = {
        "code": code(record),
        "title": record.title,
        "state": record.state,
        "level": record.level,
        "category": record.category.code,
        "year": record.year,
        "date": record.date.isoformat() if record.date else None,
        "retention": record.retention,
        "responsible": record.responsible,
        "doc_number": record.doc_number,
        "page_count": record.page_count,
        "volume": code(record.volume) if record.volume_id else None,
        "items": [code(item) for item in record.items.order_by("volume_position", "pk")],
        "relations": relations,
        "persons": persons,
        "metadata": record.metadata,
        "files": files,
    }
    record_event(
        actor=None,
        action=AuditEvent.Action.READ,
        obj=record,
        detail={"via": "dangan record"},
    )
    return json.loads(mask_id_numbers(json.dumps(card, ensure_ascii=False)))
