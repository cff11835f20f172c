"""Pages of the 归档接口: the system administrator's sending systems (keys shown once), the
archivist's pre-archive queue (预归档) with the checks' results, accepting or returning a filing,
and the daily reconciliation. The services are ``intake.filings``."""

import datetime

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from dangan.accounts.models import Unit
from dangan.accounts.selectors import may_write_record
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.models import Record
from dangan.integrity.models import Verdict
from dangan.people import id_numbers

from . import filings
from .models import Filing, Sender, SenderDay


class SenderForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=100)
    unit = forms.ModelChoiceField(
        label=gettext_lazy("Unit"), queryset=Unit.objects.order_by("code")
    )


class ReturnForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea(attrs={"rows": 3}))


# --- The system administrator's sending systems ---------------------------------------------
def _admin(request):
    if not filings.may_register_senders(request.user):
        raise PermissionDenied(_("Only the system administrator registers sending systems."))


@login_required
@require_http_methods(["GET", "POST"])
def senders(request):
    _admin(request)
    form = SenderForm(request.POST or None)
    shown = None
    if request.method == "POST" and form.is_valid():
        try:
            sender, key = filings.add_sender(actor=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, problems in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            shown = {"sender": sender, "key": key}
            form = SenderForm()
    return render(
        request,
        "intake/senders.html",
        {
            "form": form,
            "shown": shown,
            "senders": Sender.objects.select_related("unit"),
            "key_start": filings.KEY_START,
        },
    )


@login_required
@require_POST
def sender_change(request, pk):
    _admin(request)
    sender = get_object_or_404(Sender, pk=pk)
    action = request.POST.get("action")
    shown = None
    if action == "rotate":
        shown = {"sender": sender, "key": filings.rotate_key(actor=request.user, sender=sender)}
    elif action in ("disable", "enable"):
        filings.set_active(actor=request.user, sender=sender, active=action == "enable")
        messages.success(
            request,
            _("%(name)s is disabled: its key is refused.") % {"name": sender.name}
            if action == "disable"
            else _("%(name)s is enabled again.") % {"name": sender.name},
        )
        return redirect("intake:senders")
    else:
        raise Http404
    return render(
        request,
        "intake/senders.html",
        {
            "form": SenderForm(),
            "shown": shown,
            "senders": Sender.objects.select_related("unit"),
            "key_start": filings.KEY_START,
        },
    )


# --- The archivist's pre-archive queue -----------------------------------------------------------
def _receiver(request):
    if not filings.may_receive_filings(request.user):
        raise PermissionDenied(_("Only the archive sees the pre-archive queue."))


def _within_grants(user, filing: Filing) -> bool:
    """Whether the archivist's grants cover the record the filing would become."""
    record = Record(
        fonds=filing.fonds,
        category=filing.category,
        unit=filing.sender.unit,
        level=filing.category.level,
    )
    return may_write_record(user, record)


QUEUE_SIZE = 500


@login_required
def filing_queue(request):
    _receiver(request)
    state = request.GET.get("state") or Filing.State.WAITING
    rows = Filing.objects.select_related("sender__unit", "fonds", "category", "record")
    if state in Filing.State.values:
        rows = rows.filter(state=state)
    rows = [f for f in rows[:QUEUE_SIZE] if _within_grants(request.user, f)]
    verdicts = filings.check_verdicts(rows)
    for filing in rows:
        filing.passed = verdicts.get(str(filing.pk))  # None: not checked yet
    return render(
        request,
        "intake/filing_queue.html",
        {"filings": rows, "state": state, "states": Filing.State.choices},
    )


def _filing(request, pk) -> Filing:
    _receiver(request)
    filing = get_object_or_404(
        Filing.objects.select_related("sender__unit", "fonds", "category", "record"), pk=pk
    )
    if not _within_grants(request.user, filing):
        raise Http404
    return filing


@login_required
@require_http_methods(["GET", "POST"])
def filing_detail(request, pk):
    filing = _filing(request, pk)
    action = request.POST.get("action") if request.method == "POST" else None
    return_form = ReturnForm(request.POST if action == "return" else None)
    if action:
        try:
            if action == "accept":
                record = filings.accept(actor=request.user, filing=filing)
                messages.success(request, _("Filed as %(code)s.") % {"code": record.archival_code})
                return redirect("intake:filing-detail", pk=filing.pk)
            if action == "check":
                filings.run_check(actor=request.user, filing=filing)
                return redirect("intake:filing-detail", pk=filing.pk)
            if action == "return" and return_form.is_valid():
                filings.return_filing(
                    actor=request.user, filing=filing, reason=return_form.cleaned_data["reason"]
                )
                messages.success(request, _("Returned to %(name)s.") % {"name": filing.sender})
                return redirect("intake:filing-detail", pk=filing.pk)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
    report = filings.latest_check(filing)
    # The filing names persons (ID numbers, the 办理过程): its reading is audited like a record's.
    record_event(actor=request.user, action=AuditEvent.Action.READ, obj=filing)
    persons = [
        {"name": p.get("name", ""), "id_number": id_numbers.mask(str(p.get("id_number", "")))}
        for p in filing.persons
    ]
    return render(
        request,
        "intake/filing_detail.html",
        {
            "filing": filing,
            "persons": persons,
            "files": filing.files.select_related("blob").order_by("position"),
            "report": report,
            "results": report.results.all() if report else [],
            "fail": Verdict.FAIL,
            "return_form": return_form,
            "may_answer": request.user.may_edit_records,
        },
    )


# --- The daily reconciliation ---------------------------------------------------------------
@login_required
def reconciliation(request):
    if not filings.may_see_reconciliation(request.user):
        raise PermissionDenied(_("Only the archive and the system administrator see this."))
    try:
        day = datetime.date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        day = timezone.localdate()
    rows = filings.reconcile(day)
    totals = {k: sum(r[k] for r in rows) for k in ("sent", "accepted", "returned", "waiting")}
    return render(
        request,
        "intake/reconciliation.html",
        {
            "day": day,
            "rows": rows,
            "totals": totals,
            "previous": day - datetime.timedelta(days=1),
            "next": day + datetime.timedelta(days=1),
            "kept": SenderDay.objects.filter(day=day).select_related("sender"),
        },
    )
