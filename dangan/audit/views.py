"""The security auditor's pages: the whole trail with filters, and its export (CSV or Excel).

Thin: the filter form is parsed here, ``selectors.audit_trail`` decides what may be read.
Exports are themselves written to the trail.
"""

import csv
import io

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from dangan import spreadsheets
from dangan.core import keyset
from dangan.spreadsheets import Spreadsheet, csv_cell

from .models import AuditEvent
from .selectors import audit_trail
from .services import record_event, verify_chain

PAGE_SIZE = 100
EXPORT_LIMIT = 200_000


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


COLUMNS = [
    ("id", gettext_lazy("No.")),
    ("at", gettext_lazy("time")),
    ("actor_name", gettext_lazy("who")),
    ("action", gettext_lazy("action")),
    ("object_type", gettext_lazy("object type")),
    ("object_id", gettext_lazy("object")),
    ("object_repr", gettext_lazy("object (as shown)")),
    ("ip", gettext_lazy("address")),
    ("before", gettext_lazy("before")),
    ("after", gettext_lazy("after")),
    ("detail", gettext_lazy("detail")),
    ("digest", gettext_lazy("digest")),
]


def _cells(event) -> list:
    """The event's columns, typed; ``dangan.spreadsheets`` keeps formula-like text as text."""
    at = timezone.localtime(event.at).replace(microsecond=0, tzinfo=None)
    return [at if key == "at" else getattr(event, key) for key, _label in COLUMNS]


@login_required
@require_GET
def export(request, fmt):
    form = TrailFilterForm(request.GET or None)
    selection = form.selection()
    events = audit_trail(request.user, **selection)[:EXPORT_LIMIT]
    name = f"audit-trail-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"
    header = [str(label) for _key, label in COLUMNS]
    count = 0
    if fmt == "csv":
        text = io.StringIO()
        writer = csv.writer(text)
        writer.writerow(header)
        for event in events.iterator(chunk_size=2000):
            writer.writerow([csv_cell(value) for value in _cells(event)])
            count += 1
        response = HttpResponse(
            "\ufeff" + text.getvalue(), content_type="text/csv; charset=utf-8"
        )  # the BOM makes Excel read the UTF-8 as UTF-8
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    else:
        sheet = Spreadsheet(_("Audit trail"))
        sheet.append(header)
        for event in events.iterator(chunk_size=2000):
            sheet.append(_cells(event))
            count += 1
        response = FileResponse(
            sheet.to_temporary_file(),
            as_attachment=True,
            filename=name,
            content_type=spreadsheets.CONTENT_TYPE,
        )
    record_event(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        object_type="audit.auditevent",
        detail={"filters": selection, "rows": count, "format": fmt},
    )
    return response
