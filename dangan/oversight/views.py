"""Pages of the oversight of units (业务监督指导), for the county and for the units' clerks.

The county (archivists, leaders) sees every unit; an archivist also acts. A unit's clerk sees
and answers for their own unit only; anything else answers 404. Views parse, call one service or
selector, and render; the services' errors end as messages.
"""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.stacks import selectors as stacks_selectors

from . import reports, selectors, services
from .forms import (
    AnswerForm,
    ChecklistItemForm,
    CloseFindingForm,
    CustodyItemForm,
    CustodyStartForm,
    FindingForm,
    InspectionStartForm,
    KeeperForm,
    QualificationForm,
    SignForm,
    SurveyForm,
)
from .models import (
    ChecklistItem,
    Finding,
    FindingPhoto,
    Inspection,
    Keeper,
    Survey,
)


def _allowed_if(test, message):
    """A view decorator: logged in, and ``test(user)`` true, else 403 with ``message``."""

    def decorate(view):
        @login_required
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if not test(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


#: The county or a unit's clerk; anyone else is refused.
oversight_user = _allowed_if(
    selectors.may_use_oversight,
    gettext_lazy("The oversight of units is for the county and unit clerks."),
)
county_only = _allowed_if(
    selectors.is_county, gettext_lazy("This page is for the county archives.")
)
steer_only = _allowed_if(selectors.may_steer, gettext_lazy("Only the county archives does this."))


def _errors(request, exc: ValidationError):
    for message in exc.messages:
        messages.error(request, message)


def _form_errors(request, form):
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        messages.error(request, f"{label} {' '.join(errors)}".strip())


def _year(request) -> int:
    try:
        return int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        return timezone.localdate().year


@oversight_user
def home(request):
    user = request.user
    context = {
        "surveys": selectors.surveys()[:10],
        "county": selectors.is_county(user),
        "steer": selectors.may_steer(user),
        "handovers": selectors.custody_handovers_for(user).filter(state="open")[:20],
        "inspections": selectors.inspections_for(user)[:20],
    }
    if selectors.is_unit_clerk(user) and not context["county"]:
        context["unit"] = user.unit
        context["findings"] = selectors.open_findings(user.unit)
    return render(request, "oversight/home.html", context)


# --- Surveys --------------------------------------------------------------------------------


@oversight_user
def survey_list(request):
    form = SurveyForm(request.POST or None)
    if request.method == "POST":
        if not selectors.may_steer(request.user):
            raise PermissionDenied
        if form.is_valid():
            try:
                survey = services.open_survey(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                return redirect("oversight:survey-detail", survey.pk)
        else:
            _form_errors(request, form)
    return render(
        request,
        "oversight/survey_list.html",
        {"surveys": selectors.surveys(), "form": form, "steer": selectors.may_steer(request.user)},
    )


@oversight_user
def survey_detail(request, pk):
    survey = get_object_or_404(Survey, pk=pk)
    if not selectors.is_county(request.user):
        return redirect("oversight:survey-answer", survey.pk)
    return render(
        request,
        "oversight/survey_detail.html",
        {
            "survey": survey,
            "rows": selectors.survey_comparison(request.user, survey),
            "steer": selectors.may_steer(request.user),
        },
    )


@steer_only
@require_POST
def survey_close(request, pk):
    survey = get_object_or_404(Survey, pk=pk)
    services.close_survey(actor=request.user, survey=survey)
    return redirect("oversight:survey-detail", survey.pk)


@oversight_user
def survey_answer(request, pk):
    """The clerk's form for their own unit (the county reads answers on the comparison)."""
    survey = get_object_or_404(Survey, pk=pk)
    if not selectors.is_unit_clerk(request.user):
        raise Http404
    unit = request.user.unit
    answer = selectors.answer_of(survey, unit)
    form = AnswerForm(request.POST or None, instance=answer)
    if request.method == "POST":
        if form.is_valid():
            values = {f: form.cleaned_data[f] for f in AnswerForm.Meta.fields}
            try:
                services.answer_survey(actor=request.user, survey=survey, unit=unit, **values)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("Your answer is saved."))
                return redirect("oversight:survey-answer", survey.pk)
        else:
            _form_errors(request, form)
    return render(
        request,
        "oversight/survey_answer.html",
        {"survey": survey, "unit": unit, "form": form, "answer": answer},
    )


# --- Checklist --------------------------------------------------------------------------------


@county_only
def checklist(request):
    form = ChecklistItemForm(request.POST or None)
    if request.method == "POST":
        if not selectors.may_steer(request.user):
            raise PermissionDenied
        if form.is_valid():
            try:
                services.save_checklist_item(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                return redirect("oversight:checklist")
        else:
            _form_errors(request, form)
    return render(
        request,
        "oversight/checklist.html",
        {
            "items": ChecklistItem.objects.all(),
            "form": form,
            "steer": selectors.may_steer(request.user),
        },
    )


@steer_only
def checklist_item(request, pk):
    item = get_object_or_404(ChecklistItem, pk=pk)
    form = ChecklistItemForm(request.POST or None, instance=item)
    if request.method == "POST":
        if form.is_valid():
            values = dict(form.cleaned_data)
            item.refresh_from_db()  # the form changed the instance; the service compares
            try:
                services.save_checklist_item(actor=request.user, item=item, **values)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                return redirect("oversight:checklist")
        else:
            _form_errors(request, form)
    return render(request, "oversight/checklist_item.html", {"item": item, "form": form})


# --- Inspections ------------------------------------------------------------------------------


@oversight_user
def inspection_list(request):
    year = _year(request)
    units = selectors.overseen_units()
    form = InspectionStartForm(request.POST or None, units=units)
    if request.method == "POST":
        if not selectors.may_steer(request.user):
            raise PermissionDenied
        if form.is_valid():
            try:
                inspection = services.start_inspection(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                return redirect("oversight:inspection-detail", inspection.pk)
        else:
            _form_errors(request, form)
    return render(
        request,
        "oversight/inspection_list.html",
        {
            "year": year,
            "ranking": selectors.ranking(request.user, year),
            "inspections": selectors.inspections_for(request.user),
            "form": form,
            "steer": selectors.may_steer(request.user),
        },
    )


def _inspection(request, pk) -> Inspection:
    return get_object_or_404(selectors.inspections_for(request.user), pk=pk)


@oversight_user
def inspection_detail(request, pk):
    inspection = _inspection(request, pk)
    steer = selectors.may_steer(request.user)
    if request.method == "POST":
        if not steer:
            raise PermissionDenied
        scores = {
            line.pk: (
                request.POST.get(f"points-{line.pk}", line.points),
                request.POST.get(f"note-{line.pk}", line.note),
            )
            for line in inspection.scores.all()
        }
        try:
            services.score_inspection(
                actor=request.user,
                inspection=inspection,
                scores=scores,
                summary=request.POST.get("summary", inspection.summary),
            )
            if request.POST.get("conclude"):
                services.conclude_inspection(actor=request.user, inspection=inspection)
        except ValidationError as exc:
            _errors(request, exc)
        else:
            messages.success(request, _("The inspection is saved."))
        return redirect("oversight:inspection-detail", inspection.pk)
    facts = inspection.facts
    lines = list(inspection.scores.all())
    for line in lines:
        line.fact_value = facts.get(line.fact) if line.fact else None
        line.fact_good = selectors.fact_is_good(line.fact, facts)
    return render(
        request,
        "oversight/inspection_detail.html",
        {
            "inspection": inspection,
            "facts": reports.fact_rows(facts),
            "lines": lines,
            "findings": inspection.findings.prefetch_related("photos"),
            "finding_form": FindingForm(),
            "steer": steer,
        },
    )


@steer_only
@require_POST
def inspection_facts(request, pk):
    inspection = get_object_or_404(Inspection, pk=pk)
    try:
        services.refresh_facts(actor=request.user, inspection=inspection)
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("oversight:inspection-detail", inspection.pk)


@oversight_user
def inspection_report(request, pk):
    inspection = _inspection(request, pk)
    pdf = reports.inspection_pdf(inspection)
    record_event(actor=request.user, action=AuditEvent.Action.EXPORT, obj=inspection)
    response = HttpResponse(pdf, content_type="application/pdf")
    name = f"inspection-{inspection.year}-{inspection.unit.code}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@steer_only
@require_POST
def finding_create(request, pk):
    inspection = get_object_or_404(Inspection, pk=pk)
    form = FindingForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("oversight:inspection-detail", inspection.pk)
    photos = [(f.name, f) for f in request.FILES.getlist("photos")]
    try:
        services.add_finding(
            actor=request.user, inspection=inspection, photos=photos, **form.cleaned_data
        )
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("oversight:inspection-detail", inspection.pk)


@steer_only
@require_POST
def finding_close(request, pk):
    finding = get_object_or_404(Finding, pk=pk)
    form = CloseFindingForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        try:
            services.close_finding(actor=request.user, finding=finding, **form.cleaned_data)
        except ValidationError as exc:
            _errors(request, exc)
    return redirect("oversight:inspection-detail", finding.inspection_id)


@steer_only
@require_POST
def finding_photos(request, pk):
    finding = get_object_or_404(Finding, pk=pk)
    photos = [(f.name, f) for f in request.FILES.getlist("photos")]
    try:
        services.add_photos(actor=request.user, finding=finding, photos=photos)
    except ValidationError as exc:
        _errors(request, exc)
    return redirect("oversight:inspection-detail", finding.inspection_id)


@oversight_user
def photo(request, pk):
    """A finding's photo, for those who may see its inspection."""
    from dangan.content.selectors import open_blob

    photo = get_object_or_404(
        FindingPhoto.objects.select_related("blob", "finding__inspection"),
        pk=pk,
        finding__inspection__in=selectors.inspections_for(request.user),
    )
    response = FileResponse(open_blob(photo.blob), content_type=photo.blob.mime)
    response["Content-Security-Policy"] = "sandbox"
    return response


# --- Keepers and units ----------------------------------------------------------------------


@county_only
def keeper_overview(request):
    rows = selectors.keepers_overview(request.user)
    return render(
        request,
        "oversight/keepers.html",
        {
            "rows": rows,
            "nobody_named": sum(1 for r in rows if r["nobody_named"]),
            "nobody_trained": sum(1 for r in rows if r["nobody_trained"]),
        },
    )


@oversight_user
def unit_detail(request, pk):
    unit = get_object_or_404(selectors.units_for(request.user), pk=pk)
    steer = selectors.may_steer(request.user)
    form = KeeperForm(request.POST or None, unit=unit)
    if request.method == "POST":
        if not steer:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.name_keeper(actor=request.user, unit=unit, **form.cleaned_data)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                return redirect("oversight:unit-detail", unit.pk)
        else:
            _form_errors(request, form)
    return render(
        request,
        "oversight/unit_detail.html",
        {
            "unit": unit,
            "keepers": selectors.keepers_of(unit),
            "form": form,
            "qualification_form": QualificationForm(),
            "inspections": selectors.inspections_for(request.user).filter(unit=unit),
            "rooms": selectors.unit_rooms(unit),
            "all_rooms": stacks_selectors.rooms() if steer else [],
            "steer": steer,
            "today": timezone.localdate(),
        },
    )


@steer_only
@require_POST
def unit_room(request, pk):
    unit = get_object_or_404(selectors.overseen_units(), pk=pk)
    room = stacks_selectors.rooms().filter(pk=request.POST.get("room") or 0).first()
    if room is None:
        messages.error(request, _("Choose a room."))
    else:
        services.assign_room(actor=request.user, unit=unit, room=room)
    return redirect("oversight:unit-detail", unit.pk)


@steer_only
@require_POST
def keeper_qualification(request, pk):
    keeper = get_object_or_404(Keeper, pk=pk)
    form = QualificationForm(request.POST)
    if form.is_valid():
        try:
            services.add_qualification(actor=request.user, keeper=keeper, **form.cleaned_data)
        except ValidationError as exc:
            _errors(request, exc)
    else:
        _form_errors(request, form)
    return redirect("oversight:unit-detail", keeper.unit_id)


@steer_only
@require_POST
def keeper_leave(request, pk):
    keeper = get_object_or_404(Keeper, pk=pk)
    services.keeper_leaves(actor=request.user, keeper=keeper, on=timezone.localdate())
    return redirect("oversight:unit-detail", keeper.unit_id)


# --- Custody hand-over ------------------------------------------------------------------------


@login_required
def custody_list(request):
    handovers = selectors.custody_handovers_for(request.user)
    steer = selectors.may_steer(request.user)
    if not selectors.may_use_oversight(request.user) and not handovers.exists():
        raise PermissionDenied(_("The oversight of units is for the county and unit clerks."))
    form = CustodyStartForm(request.POST or None, units=selectors.overseen_units())
    if request.method == "POST":
        if not steer:
            raise PermissionDenied
        if form.is_valid():
            try:
                handover = services.start_custody_handover(actor=request.user, **form.cleaned_data)
            except ValidationError as exc:
                _errors(request, exc)
            else:
                return redirect("oversight:custody-detail", handover.pk)
        else:
            _form_errors(request, form)
    return render(
        request,
        "oversight/custody_list.html",
        {"handovers": handovers, "form": form, "steer": steer},
    )


@login_required
def custody_detail(request, pk):
    handover = get_object_or_404(selectors.custody_handovers_for(request.user), pk=pk)
    party = selectors.party_of(handover, request.user)
    form = SignForm(request.POST or None)
    if request.method == "POST":
        if party is None:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.sign_custody_handover(
                    actor=request.user,
                    handover=handover,
                    checked=[int(v) for v in request.POST.getlist("checked") if v.isdigit()],
                    **form.cleaned_data,
                )
            except ValidationError as exc:
                _errors(request, exc)
            else:
                messages.success(request, _("Signed."))
                return redirect("oversight:custody-detail", handover.pk)
        else:
            _form_errors(request, form)
    signatures = {s.party: s for s in handover.signatures.select_related("user")}
    return render(
        request,
        "oversight/custody_detail.html",
        {
            "handover": handover,
            "items": handover.items.all(),
            "signatures": signatures,
            "parties": [
                (value, label, getattr(handover, value), signatures.get(value))
                for value, label in handover.signatures.model.Party.choices
            ],
            "party": party,
            "signed": party in signatures,
            "form": form,
            "item_form": CustodyItemForm(),
            "may_add": handover.state == "open"
            and not signatures
            and (selectors.may_steer(request.user) or party == "outgoing"),
        },
    )


@login_required
@require_POST
def custody_item(request, pk):
    handover = get_object_or_404(selectors.custody_handovers_for(request.user), pk=pk)
    form = CustodyItemForm(request.POST)
    if form.is_valid():
        try:
            services.add_custody_item(actor=request.user, handover=handover, **form.cleaned_data)
        except ValidationError as exc:
            _errors(request, exc)
    else:
        _form_errors(request, form)
    return redirect("oversight:custody-detail", handover.pk)
