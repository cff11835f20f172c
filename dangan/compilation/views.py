"""The editors' pages of compilations and exhibitions (archivists edit, leaders approve).

Views parse the form, call one service or selector and render; a service's refusal ends as a
message on the page it came from.
"""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dangan.accounts.models import Unit
from dangan.catalogue.models import Record
from dangan.catalogue.selectors import read_record

from . import exports, selectors, services
from .models import Citation, Compilation, CompilationVersion, Entry, Exhibit, Exhibition, Section


def _staff(view):
    """Logged in, and an archivist or a leader (``selectors.may_use_compilations``), else 403."""

    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.may_use_compilations(request.user):
            raise PermissionDenied(
                _("Compilations are made by archivists and approved by leaders.")
            )
        return view(request, *args, **kwargs)

    return wrapped


def _acted(request, action, *, done: str = "") -> bool:
    """Run ``action``; its refusal becomes a message. Whether it went through."""
    try:
        action()
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return False
    if done:
        messages.success(request, done)
    return True


def _texts(post, prefix: str) -> dict:
    return {lang: post.get(f"{prefix}_{lang}", "") for lang in services.LANGUAGE_FIELDS}


def _compilation(request, pk) -> Compilation:
    try:
        return selectors.compilations_for(request.user).get(pk=pk)
    except Compilation.DoesNotExist:
        raise Http404 from None


def _entry(request, compilation, pk) -> Entry:
    try:
        return compilation.entries.get(pk=pk)
    except Entry.DoesNotExist:
        raise Http404 from None


def _codes(text: str) -> list[str]:
    return [c for c in text.replace(",", " ").replace(";", " ").replace("，", " ").split() if c]


@_staff
@require_http_methods(["GET", "POST"])
def home(request):
    """Every compilation and exhibition; new ones are started here."""
    if request.method == "POST":
        what = request.POST.get("what")
        made = {}

        def start():
            if what == "exhibition":
                made["object"] = services.create_exhibition(
                    actor=request.user,
                    slug=request.POST.get("slug", "").strip(),
                    title=_texts(request.POST, "title"),
                )
            elif what == "orghistory":
                unit = Unit.objects.filter(pk=request.POST.get("unit") or 0).first()
                if unit is None:
                    raise ValidationError(_("Choose the unit whose history this is."))
                made["object"] = services.start_org_history(actor=request.user, unit=unit)
            else:
                made["object"] = services.create_compilation(
                    actor=request.user,
                    kind=request.POST.get("kind", ""),
                    title=request.POST.get("title", ""),
                )

        if _acted(request, start):
            obj = made["object"]
            if isinstance(obj, Exhibition):
                return redirect("compilation:exhibition", obj.pk)
            return redirect(obj)
    return render(
        request,
        "compilation/home.html",
        {
            "compilations": selectors.compilations_for(request.user),
            "exhibitions": selectors.exhibitions_for(request.user),
            "kinds": Compilation.Kind.choices,
            "units": Unit.objects.order_by("code"),
            "may_edit": selectors.may_edit_compilations(request.user),
        },
    )


@_staff
@require_http_methods(["GET"])
def detail(request, pk):
    compilation = _compilation(request, pk)
    entries = list(selectors.entries_of(compilation))
    for entry in entries:
        entry.when = exports.date_label([entry.year, entry.month, entry.day])
        entry.until = exports.date_label([entry.end_year, entry.end_month, entry.end_day])
    return render(
        request,
        "compilation/detail.html",
        {
            "compilation": compilation,
            "entries": entries,
            "readable": selectors.readable_citations(request.user, compilation),
            "versions": compilation.versions.select_related("made_by", "approved_by"),
            "may_edit": selectors.may_edit_compilations(request.user),
            "may_approve": selectors.may_approve_compilations(request.user),
        },
    )


def _date_values(post, field: str):
    """A date field of the form: absent keeps the entry's, empty clears it."""
    if field not in post:
        return ""
    return post.get(field).strip() or None


@_staff
@require_POST
def entry_add(request, pk):
    compilation = _compilation(request, pk)
    post = request.POST
    _acted(
        request,
        lambda: services.add_entry(
            actor=request.user,
            compilation=compilation,
            codes=_codes(post.get("codes", "")),
            records=[int(r) for r in post.getlist("record") if r.isdigit()],
            date=post.get("date", "").strip() or None,
            end=post.get("end", "").strip() or None,
            text=post.get("text", ""),
            note=post.get("note", ""),
            chapter=post.get("chapter", ""),
            with_pages=post.get("with_pages") == "on",
            name=post.get("name", ""),
            parent_name=post.get("parent_name", ""),
            functions=post.get("functions", ""),
            leaders=post.get("leaders", ""),
        ),
        done=_("The entry was added."),
    )
    return redirect(compilation)


@_staff
@require_POST
def entry_edit(request, pk, entry):
    compilation = _compilation(request, pk)
    entry = _entry(request, compilation, entry)
    post = request.POST
    fields = {f: post.get(f, "") for f in services.ENTRY_FIELDS if f in post and f != "with_pages"}
    if "with_pages_shown" in post:
        fields["with_pages"] = post.get("with_pages") == "on"

    def change():
        services.update_entry(
            actor=request.user,
            entry=entry,
            date=_date_values(post, "date"),
            end=_date_values(post, "end"),
            **fields,
        )
        codes = _codes(post.get("codes", ""))
        if codes:
            services.cite(actor=request.user, entry=entry, codes=codes)

    _acted(request, change, done=_("The entry was saved."))
    return redirect(f"{compilation.get_absolute_url()}#entry-{entry.pk}")


@_staff
@require_POST
def entry_move(request, pk, entry):
    compilation = _compilation(request, pk)
    entry = _entry(request, compilation, entry)
    position = request.POST.get("position", "")
    if request.POST.get("step") in ("up", "down"):
        position = entry.position + (-1 if request.POST["step"] == "up" else 1)
    if str(position).lstrip("-").isdigit():
        services.move_entry(actor=request.user, entry=entry, position=int(position))
    return redirect(f"{compilation.get_absolute_url()}#entry-{entry.pk}")


@_staff
@require_POST
def entry_remove(request, pk, entry):
    compilation = _compilation(request, pk)
    services.remove_entry(actor=request.user, entry=_entry(request, compilation, entry))
    messages.success(request, _("The entry was removed."))
    return redirect(compilation)


@_staff
@require_POST
def citation_remove(request, pk, citation):
    compilation = _compilation(request, pk)
    try:
        found = Citation.objects.get(pk=citation, entry__compilation=compilation)
    except Citation.DoesNotExist:
        raise Http404 from None
    services.uncite(actor=request.user, citation=found)
    return redirect(f"{compilation.get_absolute_url()}#entry-{found.entry_id}")


@_staff
@require_POST
def sort_by_date(request, pk):
    compilation = _compilation(request, pk)
    services.sort_chronicle(actor=request.user, compilation=compilation)
    return redirect(compilation)


@_staff
@require_POST
def submit(request, pk):
    compilation = _compilation(request, pk)
    _acted(
        request,
        lambda: services.submit_version(
            actor=request.user, compilation=compilation, remark=request.POST.get("remark", "")
        ),
        done=_("The version was submitted to a leader for approval."),
    )
    return redirect(compilation)


@_staff
@require_POST
def decide(request, pk, version):
    compilation = _compilation(request, pk)
    try:
        found = compilation.versions.get(pk=version)
    except CompilationVersion.DoesNotExist:
        raise Http404 from None
    if request.POST.get("decision") == "approve":
        services.approve_version(actor=request.user, version=found)
        messages.success(request, _("The version was approved."))
    else:
        _acted(
            request,
            lambda: services.return_version(
                actor=request.user, version=found, reason=request.POST.get("reason", "")
            ),
            done=_("The version went back to the editors."),
        )
    return redirect(compilation)


@_staff
@require_POST
def export(request, pk):
    """Start the export in the background and show the job's page (progress, then download)."""
    compilation = _compilation(request, pk)
    try:
        job = services.start_export(
            actor=request.user, compilation=compilation, format=request.POST.get("format", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect(compilation)
    return redirect(job.get_absolute_url())


@_staff
@require_http_methods(["GET", "POST"])
def cite(request):
    """Add a record to a compilation: from the search results and the record page."""
    if not selectors.may_edit_compilations(request.user):
        raise PermissionDenied(_("Only an archivist edits compilations and exhibitions."))
    try:
        record = read_record(request.user, int(request.GET.get("record", "0") or 0))
    except (Record.DoesNotExist, ValueError):
        raise Http404 from None
    if request.method == "POST":
        compilation = _compilation(request, request.POST.get("compilation") or 0)
        post = request.POST
        added = _acted(
            request,
            lambda: services.add_entry(
                actor=request.user,
                compilation=compilation,
                records=[record.pk],
                date=post.get("date", "").strip() or None,
                text=post.get("text", ""),
                note=post.get("note", ""),
                chapter=post.get("chapter", ""),
            ),
            done=_("The record was added to “%(title)s”.") % {"title": compilation.title},
        )
        if added:
            return redirect(compilation)
    return render(
        request,
        "compilation/cite.html",
        {
            "record": record,
            "compilations": selectors.compilations_for(request.user),
            "date": record.date.isoformat() if record.date else str(record.year),
        },
    )


# --- Exhibitions ---------------------------------------------------------------------------------
def _exhibition(request, pk) -> Exhibition:
    try:
        return selectors.exhibitions_for(request.user).get(pk=pk)
    except Exhibition.DoesNotExist:
        raise Http404 from None


@_staff
@require_http_methods(["GET"])
def exhibition(request, pk):
    show = _exhibition(request, pk)
    sections = show.sections.prefetch_related("exhibits__record")
    shown = set(selectors.shown_exhibits(show).values_list("pk", flat=True))
    return render(
        request,
        "compilation/exhibition_edit.html",
        {
            "exhibition": show,
            "sections": sections,
            "shown": shown,
            "may_edit": selectors.may_edit_compilations(request.user),
            "may_approve": selectors.may_approve_compilations(request.user),
        },
    )


@_staff
@require_POST
def exhibition_act(request, pk):
    """Every change of an exhibition: ``what`` says which."""
    show = _exhibition(request, pk)
    post, user, what = request.POST, request.user, request.POST.get("what")

    def section():
        try:
            return show.sections.get(pk=post.get("section") or 0)
        except Section.DoesNotExist:
            raise ValidationError(_("Choose a section.")) from None

    def exhibit():
        try:
            return Exhibit.objects.get(pk=post.get("exhibit") or 0, section__exhibition=show)
        except Exhibit.DoesNotExist:
            raise ValidationError(_("No such exhibit.")) from None

    actions = {
        "section": lambda: services.add_section(
            actor=user, exhibition=show, title=_texts(post, "title"), text=_texts(post, "text")
        ),
        "exhibit": lambda: services.add_exhibit(
            actor=user,
            section=section(),
            code=post.get("code", "").strip(),
            caption=_texts(post, "caption"),
            consent=post.get("consent") == "on",
        ),
        "remove": lambda: services.remove_exhibit(actor=user, exhibit=exhibit()),
        "submit": lambda: services.submit_exhibition(actor=user, exhibition=show),
        "publish": lambda: services.publish_exhibition(actor=user, exhibition=show),
        "take_down": lambda: services.take_down_exhibition(
            actor=user, exhibition=show, reason=post.get("reason", "")
        ),
    }
    if what not in actions:
        raise Http404
    _acted(request, actions[what], done=_("Saved."))
    return redirect("compilation:exhibition", show.pk)
