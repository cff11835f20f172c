"""Writing compilations and exhibitions. Every write checks who acts and appends to the audit
trail in its transaction.

Citing a record goes through ``catalogue.selectors.visible_records``: an editor cites only
records they may read, found by archival code (or by the record, from the search page and the
record page). An exhibit must in addition be open (开放), public (not secret) and filed when it
is added; the public page checks it again each time it is shown (``selectors.shown_exhibits``).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.accounts.models import Secrecy, Unit
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.dates import PartialDate, parse_date
from dangan.catalogue.models import Openness, Record
from dangan.catalogue.selectors import visible_records
from dangan.content.models import Page

from . import selectors
from .models import (
    Citation,
    Compilation,
    CompilationVersion,
    Entry,
    Exhibit,
    Exhibition,
    ExhibitionVisit,
    Section,
)

#: Characters of a page's read text taken as a topic entry's excerpt when the editor gives none.
EXCERPT_CHARS = 300
#: The fields of an entry an editor may change (``update_entry``).
ENTRY_FIELDS = {
    "chapter",
    "text",
    "note",
    "with_pages",
    "name",
    "parent_name",
    "functions",
    "leaders",
}


def _require_editor(actor) -> None:
    if not selectors.may_edit_compilations(actor):
        raise PermissionDenied(_("Only an archivist edits compilations and exhibitions."))


def _require_leader(actor) -> None:
    if not selectors.may_approve_compilations(actor):
        raise PermissionDenied(_("Only a leader approves compilations and exhibitions."))


def _audit(actor, action, obj, **detail) -> None:
    record_event(actor=actor, action=action, obj=obj, detail=detail)


def _edited(compilation: Compilation) -> None:
    """A change after submission or approval makes a new draft (the approved version stays
    what may leave the archive until a leader approves another)."""
    if compilation.state != Compilation.State.DRAFT:
        compilation.state = Compilation.State.DRAFT
    compilation.save(update_fields=["state", "updated_at"])


def _date(value, field: str) -> PartialDate | None:
    if value in (None, ""):
        return None
    if isinstance(value, PartialDate):
        return value
    try:
        return parse_date(value)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from None


# --- Compilations --------------------------------------------------------------------------------
def create_compilation(
    *, actor, kind: str, title: str, introduction: str = "", compiled_by: str = "", unit=None
) -> Compilation:
    _require_editor(actor)
    if kind not in Compilation.Kind.values:
        raise ValidationError(_("Unknown kind of compilation: %(kind)s.") % {"kind": kind})
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("A compilation needs a title.")})
    with transaction.atomic():
        compilation = Compilation.objects.create(
            kind=kind,
            title=title[:200],
            introduction=introduction,
            compiled_by=compiled_by,
            unit=unit,
            created_by=actor,
        )
        _audit(actor, AuditEvent.Action.CREATE, compilation, kind=kind)
    return compilation


def start_org_history(*, actor, unit: Unit, title: str = "") -> Compilation:
    """An organisational history started from the unit tree: a period for the unit and one for
    each unit under it, with its name and parent filled in, for the editor to date and cite."""
    _require_editor(actor)
    units, level = [], [unit]
    while level:
        units += level
        level = list(Unit.objects.filter(parent__in=level).order_by("code"))
    with transaction.atomic():
        compilation = create_compilation(
            actor=actor,
            kind=Compilation.Kind.ORGHISTORY,
            title=title or _("Organisational history of %(unit)s") % {"unit": unit.name},
            unit=unit,
        )
        Entry.objects.bulk_create(
            Entry(
                compilation=compilation,
                position=n,
                unit=u,
                name=u.name,
                parent_name=u.parent.name if u.parent_id else "",
            )
            for n, u in enumerate(units, start=1)
        )
    return compilation


def _citable(actor, *, codes=(), records=()) -> list[Record]:
    """The records to cite, in the order given, all read through the actor's grants."""
    codes = [c.strip() for c in codes if c and c.strip()]
    ids = [r.pk if isinstance(r, Record) else int(r) for r in records]
    visible = visible_records(actor)
    found = {r.archival_code: r for r in visible.filter(archival_code__in=codes)}
    by_id = {r.pk: r for r in visible.filter(pk__in=ids)}
    for code in codes:
        if code not in found:
            raise ValidationError(
                _("No record you may read has the archival code %(code)s.") % {"code": code},
                code="not_citable",
            )
    for pk in ids:
        if pk not in by_id:
            raise ValidationError(_("You may not cite this record."), code="not_citable")
        if not by_id[pk].archival_code:
            raise ValidationError(
                _("Only a filed record with an archival code can be cited: %(title)s.")
                % {"title": by_id[pk].title},
                code="not_citable",
            )
    return [found[c] for c in codes] + [by_id[pk] for pk in ids]


def _excerpt(record: Record) -> str:
    """The beginning of the text read from the record's first page, for a topic entry."""
    from dangan.digitize.models import PageProcessing

    text = (
        PageProcessing.objects.filter(page__record=record, page__role=Page.Role.ORIGINAL)
        .exclude(text="")
        .order_by("page__position")
        .values_list("text", flat=True)
        .first()
    )
    text = " ".join((text or "").split())
    return text[:EXCERPT_CHARS] + ("…" if len(text) > EXCERPT_CHARS else "")


def _cite(entry: Entry, records: list[Record], start: int = 0) -> None:
    Citation.objects.bulk_create(
        Citation(
            entry=entry,
            record=record,
            archival_code=record.archival_code,
            title=record.title,
            date=record.date,
            responsible=record.responsible,
            position=start + n,
        )
        for n, record in enumerate(records)
    )


def add_entry(
    *,
    actor,
    compilation: Compilation,
    codes=(),
    records=(),
    date=None,
    end=None,
    text: str = "",
    note: str = "",
    chapter: str = "",
    with_pages: bool = False,
    name: str = "",
    parent_name: str = "",
    functions: str = "",
    leaders: str = "",
    unit=None,
) -> Entry:
    """Add an entry at the end of ``compilation``, citing the records of ``codes`` (archival
    codes) and ``records``, each one the actor may read (else refused, nothing stored).

    A topic compilation's entry without text takes the beginning of its record's read text.
    """
    _require_editor(actor)
    cited = _citable(actor, codes=codes, records=records)
    start, finish = _date(date, "date"), _date(end, "end")
    if compilation.kind == Compilation.Kind.CHRONICLE and start is None:
        raise ValidationError({"date": _("A chronicle's entry needs its date (at least a year).")})
    if compilation.kind == Compilation.Kind.TOPIC and not cited:
        raise ValidationError(_("A topic compilation's entry cites a record."), code="no_record")
    if not text and compilation.kind == Compilation.Kind.TOPIC:
        text = _excerpt(cited[0])
    with transaction.atomic():
        position = (compilation.entries.aggregate(last=Max("position"))["last"] or 0) + 1
        entry = Entry.objects.create(
            compilation=compilation,
            position=position,
            year=start.year if start else None,
            month=start.month if start else None,
            day=start.day if start else None,
            end_year=finish.year if finish else None,
            end_month=finish.month if finish else None,
            end_day=finish.day if finish else None,
            text=text,
            note=note,
            chapter=chapter[:200],
            with_pages=with_pages,
            name=name[:200],
            parent_name=parent_name[:200],
            functions=functions,
            leaders=leaders,
            unit=unit,
        )
        _cite(entry, cited)
        _edited(compilation)
        _audit(
            actor,
            AuditEvent.Action.UPDATE,
            compilation,
            entry=entry.pk,
            added=True,
            cited=[r.archival_code for r in cited],
        )
    return entry


def update_entry(*, actor, entry: Entry, date="", end="", **fields) -> Entry:
    """Change an entry's text, note, chapter, period fields or dates (``""`` keeps a date,
    ``None`` clears it)."""
    _require_editor(actor)
    unknown = set(fields) - ENTRY_FIELDS
    if unknown:
        raise ValidationError(
            _("These fields cannot be changed: %(f)s.") % {"f": ", ".join(sorted(unknown))}
        )
    changed = dict(fields)
    for prefix, value, field in (("", date, "date"), ("end_", end, "end")):
        if value == "":
            continue
        parsed = _date(value, field)
        for part in ("year", "month", "day"):
            changed[prefix + part] = getattr(parsed, part) if parsed else None
    if entry.compilation.kind == Compilation.Kind.CHRONICLE and "year" in changed:
        if not changed["year"]:
            raise ValidationError(
                {"date": _("A chronicle's entry needs its date (at least a year).")}
            )
    with transaction.atomic():
        for field, value in changed.items():
            setattr(entry, field, value)
        entry.save()
        _edited(entry.compilation)
        _audit(
            actor,
            AuditEvent.Action.UPDATE,
            entry.compilation,
            entry=entry.pk,
            fields=sorted(changed),
        )
    return entry


def cite(*, actor, entry: Entry, codes=(), records=()) -> list[Citation]:
    """Add citations to an entry (a chronicle's event may cite several records)."""
    _require_editor(actor)
    cited = _citable(actor, codes=codes, records=records)
    with transaction.atomic():
        start = (entry.citations.aggregate(last=Max("position"))["last"] or 0) + 1
        _cite(entry, cited, start)
        _edited(entry.compilation)
        _audit(
            actor,
            AuditEvent.Action.UPDATE,
            entry.compilation,
            entry=entry.pk,
            cited=[r.archival_code for r in cited],
        )
    return list(entry.citations.all())


def uncite(*, actor, citation: Citation) -> None:
    _require_editor(actor)
    compilation = citation.entry.compilation
    with transaction.atomic():
        citation.delete()
        _edited(compilation)
        _audit(actor, AuditEvent.Action.UPDATE, compilation, uncited=citation.archival_code)


def move_entry(*, actor, entry: Entry, position: int) -> None:
    """Put ``entry`` at ``position`` (1 is first), the others closing up behind it."""
    _require_editor(actor)
    compilation = entry.compilation
    with transaction.atomic():
        order = list(compilation.entries.order_by("position", "id").values_list("pk", flat=True))
        order.remove(entry.pk)
        position = max(1, min(int(position), len(order) + 1))
        order.insert(position - 1, entry.pk)
        _renumber(compilation, order)
        _edited(compilation)
        _audit(actor, AuditEvent.Action.UPDATE, compilation, entry=entry.pk, moved_to=position)


def _renumber(compilation: Compilation, order: list[int]) -> None:
    entries = {e.pk: e for e in compilation.entries.all()}
    for n, pk in enumerate(order, start=1):
        entries[pk].position = n
    Entry.objects.bulk_update(entries.values(), ["position"], batch_size=500)


def sort_chronicle(*, actor, compilation: Compilation) -> None:
    """Put a chronicle's entries in date order (undated last, ties in their present order)."""
    _require_editor(actor)
    with transaction.atomic():
        entries = list(compilation.entries.order_by("position", "id"))
        entries.sort(key=lambda e: (e.year or 9999, e.month or 0, e.day or 0))
        _renumber(compilation, [e.pk for e in entries])
        _edited(compilation)
        _audit(actor, AuditEvent.Action.UPDATE, compilation, sorted_by_date=True)


def remove_entry(*, actor, entry: Entry) -> None:
    _require_editor(actor)
    compilation = entry.compilation
    with transaction.atomic():
        pk = entry.pk
        entry.delete()
        _renumber(
            compilation,
            list(compilation.entries.order_by("position", "id").values_list("pk", flat=True)),
        )
        _edited(compilation)
        _audit(actor, AuditEvent.Action.UPDATE, compilation, entry=pk, removed=True)


def submit_version(*, actor, compilation: Compilation, remark: str = "") -> CompilationVersion:
    """Freeze the compilation as it stands as its next version, for a leader to approve."""
    _require_editor(actor)
    if not compilation.entries.exists():
        raise ValidationError(_("An empty compilation cannot be submitted."), code="empty")
    with transaction.atomic():
        compilation = Compilation.objects.select_for_update().get(pk=compilation.pk)
        number = (compilation.versions.aggregate(last=Max("number"))["last"] or 0) + 1
        version = CompilationVersion.objects.create(
            compilation=compilation,
            number=number,
            content=selectors.content_of(compilation),
            made_by=actor,
            remark=remark[:300],
        )
        compilation.state = Compilation.State.SUBMITTED
        compilation.save(update_fields=["state", "updated_at"])
        _audit(actor, AuditEvent.Action.UPDATE, compilation, submitted_version=number)
    return version


def approve_version(*, actor, version: CompilationVersion) -> CompilationVersion:
    """A leader approves ``version``: from now on exports print it."""
    _require_leader(actor)
    with transaction.atomic():
        compilation = Compilation.objects.select_for_update().get(pk=version.compilation_id)
        version.approved_by = actor
        version.approved_at = timezone.now()
        version.save(update_fields=["approved_by", "approved_at"])
        compilation.approved_version = version
        latest = compilation.versions.aggregate(last=Max("number"))["last"]
        if compilation.state == Compilation.State.SUBMITTED and version.number == latest:
            compilation.state = Compilation.State.APPROVED
        compilation.save(update_fields=["approved_version", "state", "updated_at"])
        _audit(actor, AuditEvent.Action.UPDATE, compilation, approved_version=version.number)
    return version


def return_version(*, actor, version: CompilationVersion, reason: str) -> None:
    """A leader sends a submitted version back to the editor with the reason."""
    _require_leader(actor)
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Say why the version goes back.")})
    with transaction.atomic():
        compilation = version.compilation
        compilation.state = Compilation.State.DRAFT
        compilation.save(update_fields=["state", "updated_at"])
        _audit(
            actor,
            AuditEvent.Action.REFUSE,
            compilation,
            returned_version=version.number,
            reason=reason.strip()[:500],
        )


def record_export(*, actor, compilation: Compilation, format: str, content: dict) -> None:
    """The audit entry of an export (of the approved version, or of a draft)."""
    _audit(
        actor,
        AuditEvent.Action.EXPORT,
        compilation,
        format=format,
        version=content.get("version"),
        entries=len(content["entries"]),
    )


def start_export(*, actor, compilation: Compilation, format: str):
    """Export ``compilation`` in the background (``dangan.jobs``); the job, whose page shows the
    progress and, when done, the download."""
    from dangan.jobs.services import start_job

    if not selectors.compilations_for(actor).filter(pk=compilation.pk).exists():
        raise PermissionDenied(_("Only an archivist or a leader exports compilations."))
    if format not in ("pdf", "docx", "xlsx"):
        raise ValidationError(_("Unknown format: %(format)s.") % {"format": format})
    return start_job(
        kind=f"compilation.{format}",
        owner=actor,
        title=compilation.title,
        params={"compilation": compilation.pk},
    )


# --- Exhibitions ---------------------------------------------------------------------------------
LANGUAGE_FIELDS = ("zh_hans", "zh_hant", "en")


def _texts(prefix: str, values: dict) -> dict:
    return {f"{prefix}_{lang}": (values.get(lang) or "").strip() for lang in LANGUAGE_FIELDS}


def create_exhibition(*, actor, slug: str, title: dict, intro: dict | None = None) -> Exhibition:
    """``title`` and ``intro``: ``{"zh_hans": …, "zh_hant": …, "en": …}`` (simplified Chinese
    required; traditional Chinese made from it when not given)."""
    _require_editor(actor)
    if not (title.get("zh_hans") or "").strip():
        raise ValidationError({"title": _("An exhibition needs a title.")})
    if Exhibition.objects.filter(slug=slug).exists():
        raise ValidationError({"slug": _("Another exhibition has this address.")})
    with transaction.atomic():
        exhibition = Exhibition.objects.create(
            slug=slug, created_by=actor, **_texts("title", title), **_texts("intro", intro or {})
        )
        _audit(actor, AuditEvent.Action.CREATE, exhibition, slug=slug)
    return exhibition


def _exhibition_edited(exhibition: Exhibition) -> None:
    """A published exhibition stays published while its editor mends it; one waiting for
    approval goes back to draft (the leader approves what they saw)."""
    if exhibition.state == Exhibition.State.SUBMITTED:
        exhibition.state = Exhibition.State.DRAFT
        exhibition.save(update_fields=["state"])


def add_section(*, actor, exhibition: Exhibition, title: dict, text: dict | None = None) -> Section:
    _require_editor(actor)
    if not (title.get("zh_hans") or "").strip():
        raise ValidationError({"title": _("A section needs a title.")})
    with transaction.atomic():
        position = (exhibition.sections.aggregate(last=Max("position"))["last"] or 0) + 1
        section = Section.objects.create(
            exhibition=exhibition,
            position=position,
            **_texts("title", title),
            **_texts("text", text or {}),
        )
        _exhibition_edited(exhibition)
        _audit(actor, AuditEvent.Action.UPDATE, exhibition, section=section.pk, added=True)
    return section


def exhibit_refusal(record: Record) -> str | None:
    """Why ``record`` may not be exhibited, or None when it may."""
    if record.state != Record.State.FILED:
        return _("Only filed records are exhibited; this one is not (or no longer) filed.")
    if record.openness != Openness.OPEN:
        return _("Only open records are exhibited; this one is “%(openness)s”.") % {
            "openness": Openness(record.openness).label
        }
    if record.secrecy != Secrecy.PUBLIC:
        return _("Secret records are never exhibited; this one is “%(secrecy)s”.") % {
            "secrecy": Secrecy(record.secrecy).label
        }
    return None


def add_exhibit(
    *,
    actor,
    section: Section,
    record=None,
    code: str = "",
    caption: dict | None = None,
    consent: bool = False,
    page=None,
) -> Exhibit:
    """Show a record in ``section``: one the actor may read and that is open, public and filed
    (else refused with the reason). Its first scanned page is shown unless ``page`` names
    another of its pages."""
    _require_editor(actor)
    [found] = _citable(actor, codes=[code] if code else (), records=[record] if record else ())
    refusal = exhibit_refusal(found)
    if refusal:
        raise ValidationError(refusal, code="not_exhibitable")
    pages = Page.objects.filter(record=found, role=Page.Role.ORIGINAL)
    if page is not None:
        page = pages.filter(pk=page.pk if isinstance(page, Page) else page).first()
        if page is None:
            raise ValidationError(_("That page is not one of this record's."))
    else:
        # the first page with its preview made; else the first page (its preview comes when
        # the scanning pipeline has read it, and the public page shows it from then on)
        page = (
            pages.filter(processing__preview__isnull=False).order_by("position").first()
            or pages.order_by("position").first()
        )
    with transaction.atomic():
        position = (section.exhibits.aggregate(last=Max("position"))["last"] or 0) + 1
        exhibit = Exhibit.objects.create(
            section=section,
            position=position,
            record=found,
            archival_code=found.archival_code,
            page=page,
            consent=consent,
            **_texts("caption", caption or {}),
        )
        _exhibition_edited(section.exhibition)
        _audit(
            actor,
            AuditEvent.Action.UPDATE,
            section.exhibition,
            exhibit=exhibit.pk,
            record=found.archival_code,
            consent=consent,
        )
    return exhibit


def remove_exhibit(*, actor, exhibit: Exhibit) -> None:
    _require_editor(actor)
    exhibition = exhibit.section.exhibition
    with transaction.atomic():
        code = exhibit.archival_code
        exhibit.delete()
        _exhibition_edited(exhibition)
        _audit(actor, AuditEvent.Action.UPDATE, exhibition, removed=code)


def submit_exhibition(*, actor, exhibition: Exhibition) -> Exhibition:
    _require_editor(actor)
    if not exhibition.sections.filter(exhibits__isnull=False).exists():
        raise ValidationError(_("An exhibition without exhibits cannot be submitted."))
    with transaction.atomic():
        exhibition.state = Exhibition.State.SUBMITTED
        exhibition.save(update_fields=["state"])
        _audit(actor, AuditEvent.Action.UPDATE, exhibition, state=exhibition.state)
    return exhibition


def publish_exhibition(*, actor, exhibition: Exhibition) -> Exhibition:
    """A leader approves an exhibition waiting for approval: it is public at ``/exhibitions/``."""
    _require_leader(actor)
    if exhibition.state != Exhibition.State.SUBMITTED:
        raise ValidationError(_("Only an exhibition waiting for approval is published."))
    with transaction.atomic():
        exhibition.state = Exhibition.State.PUBLISHED
        exhibition.approved_by = actor
        exhibition.published_at = timezone.now()
        exhibition.save(update_fields=["state", "approved_by", "published_at"])
        _audit(actor, AuditEvent.Action.UPDATE, exhibition, state=exhibition.state)
    return exhibition


def take_down_exhibition(*, actor, exhibition: Exhibition, reason: str = "") -> Exhibition:
    if not (selectors.may_approve_compilations(actor) or selectors.may_edit_compilations(actor)):
        raise PermissionDenied(_("Only an archivist or a leader takes an exhibition down."))
    with transaction.atomic():
        exhibition.state = Exhibition.State.WITHDRAWN
        exhibition.save(update_fields=["state"])
        _audit(actor, AuditEvent.Action.UPDATE, exhibition, state=exhibition.state, reason=reason)
    return exhibition


def count_visit(exhibition: Exhibition) -> None:
    """One more visit today (the statistics read the day's count; nothing of the visitor)."""
    day = timezone.localdate()
    updated = ExhibitionVisit.objects.filter(exhibition=exhibition, day=day).update(
        count=F("count") + 1
    )
    if not updated:
        with transaction.atomic():
            visit, created = ExhibitionVisit.objects.get_or_create(
                exhibition=exhibition, day=day, defaults={"count": 1}
            )
            if not created:
                ExhibitionVisit.objects.filter(pk=visit.pk).update(count=F("count") + 1)
