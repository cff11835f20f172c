"""The pages of storage alerts (with their handling) and of the backup-media register.

Thin: ``alerts`` decides who may see and handle, the services write. The archivist and the
system administrator handle alerts, the security auditor reads them (三员, docs/security.md).
Alerts name blobs by digest; the records a damaged blob belongs to are listed only through
``visible_records``, so nobody learns of a record they may not read.
"""

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from dangan.catalogue.selectors import visible_records

from .alerts import alerts, handle_alert, may_handle_alerts, may_view_alerts
from .backups import update_backup_medium
from .models import AlertAction, BackupRecord, StorageAlert


def viewer_required(view):
    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not may_view_alerts(request.user):
            raise PermissionDenied(
                _("Storage alerts are for the archivist and the administrators.")
            )
        return view(request, *args, **kwargs)

    return wrapped


@viewer_required
def alert_list(request):
    status = request.GET.get("status", "unresolved")
    if status not in ("", "unresolved", *StorageAlert.Status.values):
        status = "unresolved"
    return render(
        request,
        "integrity/alert_list.html",
        {
            "alerts": alerts(status=status)[:500],
            "status": status,
            "statuses": [
                ("unresolved", _("Not resolved")),
                *StorageAlert.Status.choices,
                ("", _("All")),
            ],
        },
    )


@viewer_required
@require_http_methods(["GET", "POST"])
def alert_detail(request, pk):
    alert = get_object_or_404(StorageAlert, pk=pk)
    if request.method == "POST":
        try:
            handle_alert(
                actor=request.user,
                alert=alert,
                action=request.POST.get("action", ""),
                note=request.POST.get("note", ""),
            )
        except ValidationError as error:
            for message in error.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Saved."))
            return redirect("storage:alert-detail", pk=alert.pk)
    record_ids = (alert.details or {}).get("records") or []
    records = []
    if record_ids and request.user.may_read_records:
        records = list(visible_records(request.user).filter(pk__in=record_ids))
    return render(
        request,
        "integrity/alert_detail.html",
        {
            "alert": alert,
            "records": records,
            "hidden_records": len(record_ids) - len(records),
            "actions": alert.actions.select_related("by"),
            "may_handle": may_handle_alerts(request.user),
            "choices": AlertAction.Action.choices,
        },
    )


@viewer_required
def backup_list(request):
    return render(
        request,
        "integrity/backup_list.html",
        {"backups": BackupRecord.objects.all()[:500], "may_edit": may_handle_alerts(request.user)},
    )


@viewer_required
@require_POST
def backup_edit(request, pk):
    entry = get_object_or_404(BackupRecord, pk=pk)
    update_backup_medium(
        actor=request.user,
        entry=entry,
        location=request.POST.get("location", ""),
        note=request.POST.get("note", ""),
    )
    messages.success(request, _("Saved."))
    return redirect("storage:backup-list")
