"""Pages of appraisal: the due list, holds, batches and decisions, destruction lists, transfers.

For archivists (who appraise and propose) and leaders (who sit on committees and approve).
The views parse the request and call one service or selector; refusals of the services end as
messages on the page. An object outside the user's reach answers 404.
"""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dangan.accounts import approvals
from dangan.accounts.models import ApprovalFlow
from dangan.catalogue.selectors import granted_categories, visible_records

from . import selectors, services
from .certificate import certificate_pdf
from .forms import BatchForm, DecisionForm, HoldForm, NoteForm, ProposeForm
from .models import Batch, DestructionList, Hold


def appraiser_required(view):
    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.may_appraise(request.user):
            raise PermissionDenied(_("Appraisal is for archivists and leaders."))
        return view(request, *args, **kwargs)

    return wrapped


def _errors(request, exc) -> None:
    for message in getattr(exc, "messages", [str(exc)]):
        messages.error(request, message)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@appraiser_required
def overview(request):
    user = request.user
    return render(
        request,
        "appraisal/overview.html",
        {
            "summary": selectors.due_summary(user),
            "batches": selectors.batches(user)[:50],
            "lists": selectors.destruction_lists(user)[:50],
            "held": selectors.holds(user).filter(released_at__isnull=True).count(),
        },
    )


@appraiser_required
def due(request):
    kind = request.GET.get("kind") or Batch.Kind.RETENTION
    category, year = _int(request.GET.get("category")), _int(request.GET.get("year"))
    finder = selectors.due_for_opening if kind == Batch.Kind.OPENING else selectors.due_records
    records = finder(request.user, category=category, year=year)
    return render(
        request,
        "appraisal/due.html",
        {
            "records": records[:500],
            "count": records.count(),
            "kind": kind,
            "kinds": Batch.Kind.choices,
            "category": category,
            "year": year,
            "categories": granted_categories(request.user),
            "form": BatchForm(initial={"kind": kind}),
        },
    )


@appraiser_required
@require_POST
def batch_create(request):
    form = BatchForm(request.POST)
    if not form.is_valid():
        _errors(request, ValidationError(list(form.errors.values())))
        return redirect("appraisal:due")
    pks = [pk for pk in map(_int, request.POST.getlist("records")) if pk]
    records = visible_records(request.user).filter(pk__in=pks)
    try:
        batch = services.open_batch(
            actor=request.user,
            kind=form.cleaned_data["kind"],
            title=form.cleaned_data["title"],
            records=records,
            members=form.cleaned_data["members"],
        )
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
        return redirect("appraisal:due")
    return redirect("appraisal:batch-detail", batch.pk)


@appraiser_required
def holds(request):
    form = HoldForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        record = (
            visible_records(request.user)
            .filter(archival_code=form.cleaned_data["archival_code"].strip())
            .first()
        )
        if record is None:
            messages.error(request, _("No record with this archival code."))
        else:
            try:
                services.place_hold(
                    actor=request.user,
                    record=record,
                    kind=form.cleaned_data["kind"],
                    reason=form.cleaned_data["reason"],
                    until=form.cleaned_data["until"],
                )
            except (ValidationError, PermissionDenied) as exc:
                _errors(request, exc)
            else:
                return redirect("appraisal:holds")
    return render(
        request,
        "appraisal/holds.html",
        {"holds": selectors.holds(request.user)[:500], "form": form},
    )


@appraiser_required
@require_POST
def hold_release(request, pk):
    try:
        hold = selectors.holds(request.user).get(pk=pk)
    except Hold.DoesNotExist:
        raise Http404 from None
    try:
        services.release_hold(actor=request.user, hold=hold)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    return redirect("appraisal:holds")


def _batch(request, pk) -> Batch:
    try:
        return selectors.batch_for(request.user, pk)
    except Batch.DoesNotExist:
        raise Http404 from None


@appraiser_required
def batch_detail(request, pk):
    batch = _batch(request, pk)
    if request.method == "POST":
        form = DecisionForm(request.POST)
        if form.is_valid():
            try:
                item = batch.items.get(pk=form.cleaned_data["item"])
                services.decide(
                    actor=request.user,
                    item=item,
                    choice=form.cleaned_data["choice"],
                    reason=form.cleaned_data["reason"],
                    new_retention=form.cleaned_data["new_retention"],
                )
            except batch.items.model.DoesNotExist:
                raise Http404 from None
            except (ValidationError, PermissionDenied) as exc:
                _errors(request, exc)
        else:
            _errors(request, ValidationError(list(form.errors.values())))
        return redirect("appraisal:batch-detail", batch.pk)
    items = list(selectors.batch_items(batch))
    mine = {}
    for item in items:
        for decision in item.decisions.all():
            if decision.member_id == request.user.pk:
                mine[item.pk] = decision
    return render(
        request,
        "appraisal/batch_detail.html",
        {
            "batch": batch,
            "rows": [(item, mine.get(item.pk)) for item in items],
            "is_member": batch.members.filter(pk=request.user.pk).exists(),
            "choices": services.RETENTION_CHOICES
            if batch.kind == Batch.Kind.RETENTION
            else services.OPENING_CHOICES,
            "extensions": DecisionForm.base_fields["new_retention"].choices,
            "propose_form": ProposeForm(),
            "in_steps": services.destruction_in_steps(),
            "may_approve": services.may_approve_opening(request.user, batch),
            "note_form": NoteForm(),
            **approvals.shown(
                ApprovalFlow.Kind.OPENING, batch, waiting=batch.state == Batch.State.AWAITING
            ),
            "offered": services.offered_for_destruction(batch).count()
            if batch.state == Batch.State.CLOSED
            else 0,
            "lists": batch.destruction_lists.all(),
        },
    )


@appraiser_required
@require_POST
def batch_close(request, pk):
    batch = _batch(request, pk)
    try:
        services.close_batch(actor=request.user, batch=batch)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    return redirect("appraisal:batch-detail", batch.pk)


@appraiser_required
@require_POST
def batch_approve(request, pk):
    """The step an opening review waits for: approved, or refused with the reason."""
    batch = _batch(request, pk)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        if request.POST.get("decision") == "reject":
            services.reject_opening(actor=request.user, batch=batch, reason=note)
        else:
            services.approve_opening(actor=request.user, batch=batch, reason=note)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    return redirect("appraisal:batch-detail", batch.pk)


@appraiser_required
@require_POST
def destruction_propose(request, pk):
    batch = _batch(request, pk)
    form = ProposeForm(request.POST, in_steps=services.destruction_in_steps())
    if not form.is_valid():
        _errors(request, ValidationError(list(form.errors.values())))
        return redirect("appraisal:batch-detail", batch.pk)
    try:
        listing = services.propose_destruction(
            actor=request.user, batch=batch, approver=form.cleaned_data["approver"]
        )
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
        return redirect("appraisal:batch-detail", batch.pk)
    return redirect("appraisal:destruction-detail", listing.pk)


def _listing(request, pk) -> DestructionList:
    try:
        return selectors.destruction_list_for(request.user, pk)
    except DestructionList.DoesNotExist:
        raise Http404 from None


@appraiser_required
def destruction_detail(request, pk):
    listing = _listing(request, pk)
    return render(
        request,
        "appraisal/destruction_detail.html",
        {
            "listing": listing,
            "items": listing.items.order_by("archival_code"),
            "may_decide": services.may_decide_destruction(request.user, listing),
            "form": NoteForm(),
            **approvals.shown(
                ApprovalFlow.Kind.DESTRUCTION,
                listing,
                waiting=listing.state == DestructionList.State.PROPOSED,
            ),
        },
    )


@appraiser_required
@require_POST
def destruction_approve(request, pk):
    listing = _listing(request, pk)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        listing = services.approve_destruction(actor=request.user, listing=listing, note=note)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    else:
        if listing.state == DestructionList.State.DESTROYED:
            messages.success(request, _("Approved; the records were destroyed."))
        else:
            messages.success(request, _("Your step is approved; the list waits for the next."))
    return redirect("appraisal:destruction-detail", listing.pk)


@appraiser_required
@require_POST
def destruction_reject(request, pk):
    listing = _listing(request, pk)
    form = NoteForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    try:
        services.reject_destruction(actor=request.user, listing=listing, note=note)
    except (ValidationError, PermissionDenied) as exc:
        _errors(request, exc)
    return redirect("appraisal:destruction-detail", listing.pk)


@appraiser_required
def destruction_certificate(request, pk):
    listing = _listing(request, pk)
    if listing.state != DestructionList.State.DESTROYED:
        raise Http404
    response = HttpResponse(certificate_pdf(listing), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="destruction-{listing.pk}.pdf"'
    return response


@login_required
def transfers(request):
    if not request.user.may_edit_records:
        raise PermissionDenied(_("Transfers are made by archivists."))
    return render(
        request, "appraisal/transfers.html", {"transfers": selectors.transfers(request.user)[:200]}
    )
