"""Staff pages of the catalogue: the list, a record, its form, and the Excel export.

Every read starts from ``selectors.browse_records`` / ``read_record`` (the user's grants), every
write goes through ``services``; the views only parse the request and render.
"""

import io
import re
import unicodedata

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from dangan import spreadsheets
from dangan.accounts.selectors import may_write_record
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.core import keyset
from dangan.core.paths import path_for
from dangan.jobs.services import start_job
from dangan.people.id_numbers import mask
from dangan.people.services import resolve_persons

from . import jobs, relations, selectors, services, volumes
from .forms import RecordFilterForm, RecordForm, VolumeNoteForm
from .history import history_rows
from .models import Level, Record, RecordRelation, VolumeNote

PAGE_SIZE = 50
_ID_LIKE = re.compile(r"^\d{4,17}[\dX]?$")


def masked_query(q: str | None) -> str | None:
    """What the audit trail keeps of a search: an ID number (or its tail) masked."""
    if not q:
        return q
    text = unicodedata.normalize("NFKC", q).strip().upper()
    return mask(text) if _ID_LIKE.match(text) else q


def _filter_form(request):
    return RecordFilterForm(
        request.GET or None,
        fonds_choices=selectors.granted_fonds(request.user),
        category_choices=selectors.granted_categories(request.user).order_by("position", "code"),
    )


def _category_tree(form, selected_fonds, selected_category):
    """Fonds → categories (nested by parent) that the user's grants reach, for the side bar:
    the rows the filter form's selects were drawn from."""
    categories = form.choice_rows["category"]
    by_parent = {}
    known = {c.pk for c in categories}
    for c in categories:
        by_parent.setdefault(c.parent_id if c.parent_id in known else None, []).append(c)

    def branch(parent_id, depth):
        for c in by_parent.get(parent_id, []):
            yield {"category": c, "depth": depth, "selected": c.pk == selected_category}
            yield from branch(c.pk, depth + 1)

    return [
        {"fonds": f, "selected": f.pk == selected_fonds, "categories": list(branch(None, 0))}
        for f in form.choice_rows["fonds"]
    ]


def _labels(field: str) -> dict:
    """Value → label of a record field's choices, in the request's language (what
    ``get_FOO_display`` gives, without rebuilding the choices for every row)."""
    return {value: str(label) for value, label in Record._meta.get_field(field).flatchoices}


def _row(record, persons: list[dict], labels: dict, paths: dict) -> dict:
    """One line of the list: the record, its persons (ID numbers masked, each with the path of
    its page), date and labels."""
    row = {
        "record": record,
        "url": paths["record"](record.pk),
        "persons": [(p, mask(p["id_number"]), paths["person"](p["pk"])) for p in persons],
        "date": record.date.isoformat() if record.date else record.year,
    }
    for name, choices in labels.items():
        value = getattr(record, name)
        row[name] = choices.get(value, value)
    return row


#: What a line of the list shows (and what the list's orders sort by).
LIST_COLUMNS = (
    "archival_code",
    "legacy_number",
    "title",
    "category__name",
    "date",
    "year",
    "state",
    "retention",
    "secrecy",
    "openness",
)


@login_required
def record_list(request):
    if not selectors.may_browse_records(request.user):
        raise PermissionDenied(_("The catalogue is for those who read records."))
    form = _filter_form(request)
    selection = form.selection()
    records = (
        selectors.browse_records(request.user, **selection)
        .select_related(None)
        .select_related("category")
        .only(*LIST_COLUMNS)  # not the metadata, remarks and times the list does not show
    )
    # By cursor: a page deep in a million records costs what the first costs.
    pager = keyset.page_of_request(records, request, size=PAGE_SIZE)
    if pager.bad_cursor:
        messages.warning(request, _("That page link is out of date: here is the first page."))
    rows = pager.rows
    count = selectors.count_records(request.user, records, selection)
    if selection["q"]:
        record_event(
            actor=request.user,
            action=AuditEvent.Action.SEARCH,
            object_type="catalogue.record",
            detail={"q": masked_query(selection["q"]), "page": pager.number},
        )
    query = request.GET.copy()
    for name in ("page", "cursor"):
        query.pop(name, None)
    labels = {name: _labels(name) for name in ("state", "retention", "secrecy", "openness")}
    persons = selectors.persons_by_record(rows)
    paths = {
        "record": path_for("catalogue:record-detail"),
        "person": path_for("people:person-detail"),
    }
    return render(
        request,
        "catalogue/record_list.html",
        {
            "form": form,
            "rows": [_row(r, persons[r.pk], labels, paths) for r in rows],
            "pager": pager,
            "first_number": pager.first_number,
            "count": count,
            "query": query.urlencode(),
            "tree": _category_tree(form, selection["fonds"], selection["category"]),
            "may_create": request.user.may_edit_records,
        },
    )


@login_required
def record_export(request):
    """The selection's catalogue as Excel, written by a background job (a million rows take
    minutes): the user is sent to the job's page, which shows its progress and the download."""
    form = _filter_form(request)
    selection = form.selection()
    shown = {**selection, "q": masked_query(selection["q"])}
    job = start_job(
        kind=jobs.REGISTER,
        owner=request.user,
        title=f"archive-catalogue-{timezone.localtime():%Y%m%d-%H%M}",
        params={"filters": selection, "shown": shown},
        shown_params={"filters": shown},
    )
    return redirect(job)


@login_required
def record_detail(request, pk):
    try:
        record = selectors.read_record(request.user, pk)
    except Record.DoesNotExist:
        raise Http404(_("No such record.")) from None
    fields = list(record.category.fields.all())
    metadata = [(f.label, record.metadata.get(f.key)) for f in fields if f.key in record.metadata]
    known = {f.key for f in fields}
    metadata += [(key, value) for key, value in record.metadata.items() if key not in known]
    lines = (
        volumes.volume_lines(
            list(
                selectors.visible_records(request.user)
                .filter(volume=record)
                .order_by("volume_position", "id")
            )
        )
        if record.level == Level.VOLUME
        else []
    )
    return render(
        request,
        "catalogue/record_detail.html",
        {
            "record": record,
            "metadata": metadata,
            "persons": [
                (link.person, mask(link.person.id_number))
                for link in record.person_links.select_related("person").order_by("position", "id")
            ],
            "lines": lines,
            "relations": relations.record_relations(request.user, record),
            "relation_kinds": RecordRelation.Kind.choices,
            "note": VolumeNote.objects.filter(volume=record).first(),
            "history": history_rows(record, selectors.record_history(request.user, record)[:100]),
            "may_edit": may_write_record(request.user, record),
            # Pages uploaded (originals), beside the page count the catalogue declares.
            "uploaded": record.pages.filter(role="original").count(),
            # A page whose ID number no person of the record has: a file in the wrong folder?
            "page_warnings": selectors.record_page_help(record)["messages"],
        },
    )


def _save(form, *, actor, record=None, fonds=None):
    """Save ``form`` through the services; their errors end on the form. True when saved."""
    try:
        with transaction.atomic():
            entries = form.cleaned_data["persons"]
            persons = None
            if entries is not None:
                persons = list(resolve_persons(actor=actor, entries=entries).values())
            if record is None:
                record = services.create_record(
                    actor=actor,
                    fonds=fonds,
                    category=form.category,
                    values=form.values(),
                    metadata=form.metadata(),
                    persons=persons or (),
                    file=form.cleaned_data.get("file", False),
                )
            else:
                record = services.update_record(
                    actor=actor,
                    record=record,
                    values=form.values(),
                    metadata=form.metadata(),
                    persons=persons,
                )
    except ValidationError as exc:
        form.add_service_errors(exc)
        return None
    return record


@login_required
@require_http_methods(["GET", "POST"])
def record_create(request):
    if not request.user.may_edit_records:
        raise PermissionDenied(_("You may not create records."))
    categories = selectors.granted_categories(request.user)
    fonds_choices = selectors.granted_fonds(request.user)
    category = fonds = None
    if request.GET.get("category"):
        category = get_object_or_404(categories, pk=request.GET["category"])
    fonds = (
        get_object_or_404(fonds_choices, pk=request.GET["fonds"])
        if request.GET.get("fonds")
        else fonds_choices.first()
    )
    if category is None or fonds is None:
        return render(
            request,
            "catalogue/record_category_choice.html",
            {
                "categories": categories,
                "fonds_choices": fonds_choices,
                "fonds": fonds,
            },
        )
    form = RecordForm(request.POST or None, category=category)
    if request.method == "POST" and form.is_valid():
        record = _save(form, actor=request.user, fonds=fonds)
        if record is not None:
            return redirect("catalogue:record-detail", pk=record.pk)
    return render(
        request,
        "catalogue/record_form.html",
        {
            "form": form,
            "category": category,
            "fonds": fonds,
            "record": None,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def record_edit(request, pk):
    try:
        record = selectors.record_for_edit(request.user, pk)
    except Record.DoesNotExist:
        raise Http404(_("No such record.")) from None
    if not may_write_record(request.user, record):
        raise PermissionDenied(_("You may not change this record."))
    form = RecordForm(
        request.POST or None,
        category=record.category,
        record=record,
        initial=RecordForm.initial_for(record),
    )
    if request.method == "POST" and form.is_valid():
        if _save(form, actor=request.user, record=record) is not None:
            return redirect("catalogue:record-detail", pk=record.pk)
    page_help = selectors.record_page_help(record)
    for name, values in page_help["fields"].items():
        if name in form.fields:  # shown beside the field, taken with a click (assist/suggest.js)
            form.fields[name].suggestions = values
    return render(
        request,
        "catalogue/record_form.html",
        {
            "form": form,
            "page_help": page_help,
            "category": record.category,
            "fonds": record.fonds,
            "record": record,
            "persons": [
                (link.person, mask(link.person.id_number))
                for link in record.person_links.select_related("person").order_by("position", "id")
            ],
        },
    )


@login_required
@require_http_methods(["POST"])
def volume_items(request, pk):
    """组卷: the volume's items, one archival code a line, in their order."""
    volume = _record_or_404(request.user, pk)
    codes = [line.strip() for line in request.POST.get("codes", "").splitlines() if line.strip()]
    found = {
        r.archival_code: r
        for r in selectors.visible_records(request.user).filter(archival_code__in=codes)
    }
    missing = [code for code in codes if code not in found]
    try:
        if missing:
            raise ValidationError(
                _("No record you may see has the code %(codes)s.") % {"codes": ", ".join(missing)}
            )
        volumes.assemble_volume(
            actor=request.user, volume=volume, items=[found[code] for code in codes]
        )
        messages.success(request, _("The volume's items are saved."))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect("catalogue:record-detail", pk=volume.pk)


@login_required
@require_http_methods(["POST"])
def volume_note(request, pk):
    """备考表: the volume's note, who arranged and who checked it."""
    volume = _record_or_404(request.user, pk)
    form = VolumeNoteForm(request.POST)
    if form.is_valid():
        try:
            volumes.save_note(actor=request.user, volume=volume, **form.cleaned_data)
            messages.success(request, _("The volume note is saved."))
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
    else:
        for errors in form.errors.values():
            for message in errors:
                messages.error(request, message)
    return redirect("catalogue:record-detail", pk=volume.pk)


@login_required
def volume_pdf(request, pk):
    """卷内目录 and 备考表 as PDF, the export audited."""
    volume = _record_or_404(request.user, pk)
    if volume.level != Level.VOLUME:
        raise Http404(_("No such volume."))
    pdf = volumes.volume_pdf(volume)
    record_event(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        obj=volume,
        detail={"format": "pdf", "document": "volume_list"},
    )
    name = f"volume-{volume.archival_code or volume.pk}.pdf"
    return FileResponse(io.BytesIO(pdf), filename=name, content_type="application/pdf")


@login_required
def volume_xlsx(request, pk):
    """卷内目录 and 备考表 as an Excel workbook, the export audited."""
    volume = _record_or_404(request.user, pk)
    if volume.level != Level.VOLUME:
        raise Http404(_("No such volume."))
    data = volumes.volume_xlsx(volume)
    record_event(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        obj=volume,
        detail={"format": "xlsx", "document": "volume_list"},
    )
    name = f"volume-{volume.archival_code or volume.pk}.xlsx"
    return FileResponse(io.BytesIO(data), filename=name, content_type=spreadsheets.CONTENT_TYPE)


@login_required
@require_http_methods(["POST"])
def relation_add(request, pk):
    """Relate this record to another, named by its archival code."""
    record = _record_or_404(request.user, pk)
    code = request.POST.get("code", "").strip()
    target = selectors.visible_records(request.user).filter(archival_code=code).first()
    try:
        if target is None:
            raise ValidationError(
                _("No record you may see has the code %(codes)s.") % {"codes": code}
            )
        relations.link_records(
            actor=request.user, source=record, target=target, kind=request.POST.get("kind", "")
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    return redirect("catalogue:record-detail", pk=record.pk)


@login_required
@require_http_methods(["POST"])
def relation_remove(request, pk, relation_pk):
    record = _record_or_404(request.user, pk)
    relation = get_object_or_404(
        RecordRelation.objects.select_related("source", "target").filter(
            source__in=selectors.visible_records(request.user),
            target__in=selectors.visible_records(request.user),
        ),
        pk=relation_pk,
    )
    relations.unlink_records(actor=request.user, relation=relation)
    return redirect("catalogue:record-detail", pk=record.pk)


def _record_or_404(user, pk) -> Record:
    try:
        return selectors.record_for_edit(user, pk)
    except Record.DoesNotExist:
        raise Http404(_("No such record.")) from None
