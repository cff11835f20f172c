"""Reading compilations and exhibitions.

Compilations are the archive's own work: archivists (who make them) and leaders (who approve
them) see them all; a citation shows its record's title only to a reader who may read the record
(``catalogue.selectors.visible_records``), its archival code to everyone who sees the
compilation.

Exhibitions are public once published, and what they show is decided when the page is shown:
``shown_exhibits`` keeps only the exhibits whose record is in the open catalogue at this moment
(``portal.selectors.open_records``: filed, 开放, 公开), so a record closed, withdrawn or destroyed
after the exhibition was made disappears from every exhibition at once, whether it was changed
through a service or straight in the database.
"""

import datetime

from django.db.models import Count, QuerySet, Sum

from dangan.catalogue.selectors import visible_records
from dangan.portal.selectors import open_records
from dangan.security.permissions import has_permission

from .models import Citation, Compilation, Entry, Exhibit, Exhibition, ExhibitionVisit


def may_edit_compilations(user) -> bool:
    """Editors of compilations and exhibitions: the archivists (by default)."""
    return has_permission(user, "compilation.edit")


def may_approve_compilations(user) -> bool:
    """A leader approves a compilation's version and an exhibition before they leave the
    archive (by default)."""
    return has_permission(user, "compilation.approve")


def may_use_compilations(user) -> bool:
    """The compilation pages: for those who make them and those who approve them."""
    return may_edit_compilations(user) or may_approve_compilations(user)


def compilations_for(user) -> QuerySet[Compilation]:
    if not may_use_compilations(user):
        return Compilation.objects.none()
    return Compilation.objects.annotate(entry_count=Count("entries")).select_related(
        "approved_version", "unit"
    )


def entries_of(compilation: Compilation) -> QuerySet[Entry]:
    return compilation.entries.prefetch_related("citations").select_related("unit")


def readable_citations(user, compilation: Compilation) -> set[int]:
    """Ids of the citations of ``compilation`` whose record ``user`` may read."""
    records = visible_records(user).values("pk")
    return set(
        Citation.objects.filter(entry__compilation=compilation, record__in=records).values_list(
            "pk", flat=True
        )
    )


# --- Exhibitions ---------------------------------------------------------------------------------
def exhibitions_for(user) -> QuerySet[Exhibition]:
    """Every exhibition, drafts too, for the staff who make and approve them."""
    if not may_use_compilations(user):
        return Exhibition.objects.none()
    return Exhibition.objects.annotate(visit_count=Sum("visits__count"))


def published_exhibitions() -> QuerySet[Exhibition]:
    return Exhibition.objects.filter(state=Exhibition.State.PUBLISHED)


def public_exhibition(slug: str) -> Exhibition:
    """A published exhibition; ``Exhibition.DoesNotExist`` for a draft or one taken down."""
    return published_exhibitions().get(slug=slug)


def shown_exhibits(exhibition: Exhibition) -> QuerySet[Exhibit]:
    """The exhibits the public may see now: their record in the open catalogue at this moment."""
    return (
        Exhibit.objects.filter(
            section__exhibition=exhibition, record__in=open_records().values("pk")
        )
        .select_related("record", "section", "page")
        .order_by("section__position", "section_id", "position", "id")
    )


def exhibit_preview(exhibit: Exhibit):
    """The preview derivative (a JPEG, ``digitize``) of the exhibit's page, or None."""
    from dangan.content.models import Blob
    from dangan.digitize.models import PageProcessing

    if exhibit.page_id is None:
        return None
    made = PageProcessing.objects.filter(page_id=exhibit.page_id, preview__isnull=False)
    return Blob.objects.filter(pk__in=made.values("preview_id")).first()


def visits_between(start: datetime.date, end: datetime.date) -> list[dict]:
    """Visits of each exhibition from ``start`` to ``end`` (inclusive), most visited first:
    ``{"exhibition", "visits"}`` (the statistics read this)."""
    rows = (
        ExhibitionVisit.objects.filter(day__gte=start, day__lte=end)
        .values("exhibition_id", "exhibition__title_zh_hans", "exhibition__slug")
        .annotate(visits=Sum("count"))
        .order_by("-visits")
    )
    return [
        {
            "exhibition": row["exhibition__title_zh_hans"],
            "slug": row["exhibition__slug"],
            "visits": row["visits"],
        }
        for row in rows
    ]


def content_of(compilation: Compilation) -> dict:
    """The compilation as it is exported and as a version freezes it: plain JSON, citations by
    archival code with the description they had when cited."""
    entries = []
    for entry in entries_of(compilation):
        entries.append(
            {
                "position": entry.position,
                "chapter": entry.chapter,
                "date": [entry.year, entry.month, entry.day] if entry.year else None,
                "end": [entry.end_year, entry.end_month, entry.end_day] if entry.end_year else None,
                "text": entry.text,
                "note": entry.note,
                "name": entry.name,
                "parent_name": entry.parent_name,
                "functions": entry.functions,
                "leaders": entry.leaders,
                "with_pages": entry.with_pages,
                "citations": [
                    {
                        "code": c.archival_code,
                        "title": c.title,
                        "date": c.date.isoformat() if c.date else "",
                        "responsible": c.responsible,
                        "record": c.record_id,
                    }
                    for c in entry.citations.all()
                ],
            }
        )
    return {
        "id": compilation.pk,
        "kind": compilation.kind,
        "title": compilation.title,
        "introduction": compilation.introduction,
        "compiled_by": compilation.compiled_by,
        "unit": compilation.unit.name if compilation.unit_id else "",
        "entries": entries,
    }


def export_content(compilation: Compilation) -> dict:
    """What an export prints: the approved version when there is one (what may leave the
    archive), else the draft as it stands, marked as a draft."""
    version = compilation.approved_version
    if version is not None:
        return {
            **version.content,
            "version": version.number,
            "approved": True,
            "approved_at": version.approved_at.date().isoformat() if version.approved_at else "",
        }
    return {**content_of(compilation), "version": None, "approved": False, "approved_at": ""}


def waiting_for_approval(user) -> list:
    """Compilations and exhibitions a leader is asked to approve (the workbench's tray), oldest
    first; none for anyone who may not approve."""
    if not may_approve_compilations(user):
        return []
    compilations = Compilation.objects.filter(state=Compilation.State.SUBMITTED)
    exhibitions = Exhibition.objects.filter(state=Exhibition.State.SUBMITTED)
    return sorted(
        list(compilations.order_by("updated_at")) + list(exhibitions.order_by("created_at")),
        key=lambda obj: getattr(obj, "updated_at", None) or obj.created_at,
    )
