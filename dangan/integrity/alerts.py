"""存储告警 (storage alerts): raising them, telling people, and keeping how each was handled.

A problem found by the fixity audit, the storage monitor or a backup is raised here: it is
written to the log at once, kept as a ``StorageAlert`` (the same problem seen again counts up
instead of raising a second alert), shown on the dashboard and the alerts page, and mailed to
``DANGAN_ALERT_EMAILS`` when that list is set (through Django's mail settings,
``DANGAN_EMAIL_URL``). Alerts name blobs by digest and disks by path, never a person or a
record's title, so the system administrator may handle them without reading records.

Who handles what follows the separation of duties (三员, docs/security.md): the system
administrator runs disks and backups, the archivist answers for the kept records; both may
acknowledge, resolve and annotate an alert, and every step is audited.
"""

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.security.permissions import has_permission

from .models import AlertAction, StorageAlert

logger = logging.getLogger("dangan.integrity")


def may_view_alerts(user) -> bool:
    """The storage alerts page: the auditor reads it, the archivist and system administrator
    also handle alerts (by default)."""
    return has_permission(user, "storage.view")


def may_handle_alerts(user) -> bool:
    return has_permission(user, "storage.handle")


# --- Raising -------------------------------------------------------------------------------------
def raise_alert(*, kind: str, subject: str, message: str, details: dict | None = None):
    """Raise (or count again) the alert ``kind`` on ``subject``; log it; mail it when new.

    Returns the alert. Called by the system, so the audit entry names no user.
    """
    now = timezone.now()
    logger.error("Storage alert %s on %s: %s", kind, subject, message)
    with transaction.atomic():
        alert = (
            StorageAlert.objects.select_for_update()
            .filter(kind=kind, subject=subject[:200])
            .exclude(status=StorageAlert.Status.RESOLVED)
            .first()
        )
        if alert is not None:
            alert.last_seen_at = now
            alert.times += 1
            alert.message = message[:500]
            alert.details = details or {}
            alert.save(update_fields=["last_seen_at", "times", "message", "details"])
            return alert
        alert = StorageAlert.objects.create(
            kind=kind,
            subject=subject[:200],
            message=message[:500],
            details=details or {},
            raised_at=now,
            last_seen_at=now,
        )
        record_event(
            actor=None,
            action=AuditEvent.Action.CREATE,
            obj=alert,
            detail={"kind": kind, "subject": alert.subject, "message": alert.message},
        )
        transaction.on_commit(lambda: _mail(alert.pk))
    return alert


def _mail(alert_id: int) -> None:
    """Mail a new alert to ``DANGAN_ALERT_EMAILS``; a mail server that fails is logged, never
    allowed to stop the audit that found the problem."""
    recipients = list(getattr(settings, "DANGAN_ALERT_EMAILS", []) or [])
    if not recipients:
        return
    alert = StorageAlert.objects.get(pk=alert_id)
    subject = _("[Dangan] Storage alert: %(kind)s") % {"kind": alert.get_kind_display()}
    body = "\n".join(
        [
            alert.message,
            "",
            _("Subject: %(subject)s") % {"subject": alert.subject},
            _("Raised: %(at)s") % {"at": timezone.localtime(alert.raised_at).isoformat()},
            "",
            _("Handle it on the archive's alerts page (Storage → alerts)."),
        ]
    )
    try:
        send_mail(subject, body, None, recipients)
    except Exception:
        logger.exception("Could not mail storage alert %s", alert_id)
        return
    StorageAlert.objects.filter(pk=alert_id).update(mailed_at=timezone.now())


# --- Handling ------------------------------------------------------------------------------------
_NEXT_STATUS = {
    AlertAction.Action.ACKNOWLEDGE: StorageAlert.Status.ACKNOWLEDGED,
    AlertAction.Action.RESOLVE: StorageAlert.Status.RESOLVED,
    AlertAction.Action.REOPEN: StorageAlert.Status.OPEN,
}


def handle_alert(*, actor, alert: StorageAlert, action: str, note: str = "") -> AlertAction:
    """Record that ``actor`` acknowledged, resolved, reopened or annotated ``alert``.

    Resolving asks for a note: the register must say what was done (restored from which
    backup, disk replaced…).
    """
    if not may_handle_alerts(actor):
        raise PermissionDenied(_("You may not handle storage alerts."))
    if action not in AlertAction.Action.values:
        raise ValidationError(_("Unknown action."), code="unknown_action")
    note = (note or "").strip()
    if action in (AlertAction.Action.RESOLVE, AlertAction.Action.NOTE) and not note:
        raise ValidationError(_("Say what was done in the note."), code="note_required")
    with transaction.atomic():
        alert = StorageAlert.objects.select_for_update().get(pk=alert.pk)
        before = alert.status
        if action in _NEXT_STATUS:
            alert.status = _NEXT_STATUS[action]
            alert.save(update_fields=["status"])
        step = AlertAction.objects.create(
            alert=alert,
            at=timezone.now(),
            by=actor,
            by_name=actor.username,
            action=action,
            note=note,
        )
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=alert,
            before={"status": before},
            after={"status": alert.status},
            detail={"handling": action, "note": note},
        )
    return step


# --- Reading -------------------------------------------------------------------------------------
def alerts(*, status: str = "") -> QuerySet[StorageAlert]:
    """Alerts, newest first: ``status`` "" for all, "unresolved", or one status."""
    rows = StorageAlert.objects.annotate(steps=Count("actions"))
    if status == "unresolved":
        return rows.exclude(status=StorageAlert.Status.RESOLVED)
    if status:
        return rows.filter(status=status)
    return rows


def alert_summary() -> dict:
    """What the dashboard panel shows: counts of unresolved alerts and the last fixity run."""
    from .models import FixityRun

    counts = StorageAlert.objects.aggregate(
        open=Count("id", filter=Q(status=StorageAlert.Status.OPEN)),
        acknowledged=Count("id", filter=Q(status=StorageAlert.Status.ACKNOWLEDGED)),
    )
    return {
        **counts,
        "latest": list(alerts(status="unresolved")[:5]),
        "last_run": FixityRun.objects.first(),
    }
