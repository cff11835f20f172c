"""Reading pages and their OCR results, always through the records the user may see."""

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.selectors import visible_records
from dangan.content.models import Page
from dangan.content.selectors import open_blob

from .models import PageProcessing, ScanBatch

#: What the viewer may fetch of a page, and whether fetching it counts as a download.
DERIVATIVES = {"thumbnail": False, "preview": False, "pdf": True}


def may_bring_in_scans(user) -> bool:
    """Scan batches from the scanning station are brought in by archivists."""
    return bool(user and user.is_authenticated and user.may_edit_records)


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
    if not getattr(user, "may_edit_records", False):
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
