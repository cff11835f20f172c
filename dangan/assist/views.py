"""The archivist's page of suspected duplicates (疑似重复): each pair accepted or rejected."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.people.models import Person

from . import duplicates, selectors, services
from .models import DuplicateProposal

PER_PAGE = 100


@login_required
@require_GET
def duplicate_list(request):
    if not selectors.may_review_duplicates(request.user):
        raise PermissionDenied
    kind = request.GET.get("kind")
    if kind not in DuplicateProposal.Kind.values:
        kind = DuplicateProposal.Kind.PERSONS
    proposals = list(selectors.proposals_for(request.user, kind=kind)[:PER_PAGE])
    objects = selectors.objects_of(proposals, kind)
    if kind == DuplicateProposal.Kind.PERSONS and proposals:
        # Who was shown to whom, as for a search of persons (numbers are shown masked).
        record_event(
            actor=request.user,
            action=AuditEvent.Action.SEARCH,
            object_type=Person._meta.label_lower,
            detail={"duplicates": sorted(objects), "found": len(proposals)},
        )
    rows = [
        {
            "proposal": p,
            "pair": [objects.get(p.a), objects.get(p.b)],
            "reason": duplicates.describe(p.reason),
        }
        for p in proposals
    ]
    counts = selectors.open_counts(request.user)
    return render(
        request,
        "assist/duplicates.html",
        {
            "kind": kind,
            "tabs": [
                (value, label, counts[value]) for value, label in DuplicateProposal.Kind.choices
            ],
            "rows": rows,
        },
    )


def _proposal(request, pk) -> DuplicateProposal:
    """An open proposal whose two objects the user may see; 404 otherwise."""
    if not selectors.may_review_duplicates(request.user):
        raise PermissionDenied
    proposal = get_object_or_404(DuplicateProposal, pk=pk)
    return get_object_or_404(selectors.proposals_for(request.user, kind=proposal.kind), pk=pk)


def _back(proposal):
    return redirect(reverse("assist:duplicate-list") + f"?kind={proposal.kind}")


@login_required
@require_POST
def duplicate_accept(request, pk):
    proposal = _proposal(request, pk)
    keep = request.POST.get("keep")
    try:
        services.accept_duplicate(
            actor=request.user,
            proposal=proposal,
            reason=request.POST.get("reason", ""),
            keep=int(keep) if keep and keep.isdigit() else None,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The pair is accepted as one."))
    return _back(proposal)


@login_required
@require_POST
def duplicate_reject(request, pk):
    proposal = _proposal(request, pk)
    try:
        services.reject_duplicate(
            actor=request.user, proposal=proposal, note=request.POST.get("note", "")
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The pair is rejected: it will not be proposed again."))
    return _back(proposal)
