"""The security auditor's pages: the whole trail with filters, and its export (CSV or Excel,
a background job: ``exports``).

Thin: the filter form is parsed here, ``selectors.audit_trail`` decides what may be read.
Exports are themselves written to the trail.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from dangan.core import keyset

from .exports import filters_as_params, start_trail_export
from .models import AuditEvent
from .selectors import audit_trail
from .services import record_event, verify_chain

PAGE_SIZE = 100


class TrailFilterForm(forms.Form):
    who = forms.CharField(label=gettext_lazy("Who"), required=False, max_length=150)
    action = forms.ChoiceField(
        label=gettext_lazy("Action"),
        required=False,
        choices=[("", gettext_lazy("any")), *AuditEvent.Action.choices],
    )
    obj = forms.CharField(label=gettext_lazy("Object"), required=False, max_length=200)
    since = forms.DateField(
        label=gettext_lazy("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=gettext_lazy("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    ip = forms.GenericIPAddressField(label=gettext_lazy("Address"), required=False)

    def selection(self) -> dict:
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}


@login_required
@require_GET
def trail(request):
    form = TrailFilterForm(request.GET or None)
    selection = form.selection()
    events = audit_trail(request.user, **selection)
    # By cursor: the trail grows by millions, and a page deep in it costs what the first costs.
    pager = keyset.page_of_request(events.select_related(None), request, size=PAGE_SIZE)
    if pager.bad_cursor:
        messages.warning(request, _("That page link is out of date: here is the first page."))
    if selection:
        record_event(
            actor=request.user,
            action=AuditEvent.Action.SEARCH,
            object_type="audit.auditevent",
            detail={"filters": selection, "page": pager.number},
        )
    return render(request, "audit/trail.html", {"form": form, "events": pager.rows, "pager": pager})


@login_required
@require_GET
def verify(request):
    """Check the whole chain now and say whether it holds."""
    audit_trail(request.user)  # the auditor's page alone
    broken = verify_chain()
    record_event(
        actor=request.user,
        action=AuditEvent.Action.READ,
        object_type="audit.auditevent",
        detail={"verified": True, "broken": broken[:100]},
    )
    return render(request, "audit/verify.html", {"broken": broken[:100], "count": len(broken)})


@login_required
@require_POST
def export(request, fmt):
    """Start the trail's export (the filters on the page) as a background job; to its page.

    The job reads the trail with the auditor's duty when it runs and audits the export then."""
    form = TrailFilterForm(request.POST)
    audit_trail(request.user)  # the auditor's alone: PermissionDenied for anyone else
    if not form.is_valid():
        messages.error(request, _("The filters are not valid: nothing was exported."))
        return redirect("audit:trail")
    job = start_trail_export(
        owner=request.user, filters=filters_as_params(form.selection()), fmt=fmt
    )
    return redirect(job)
