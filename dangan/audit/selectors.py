"""Reading the audit trail: the security auditor's duty alone (三员分立)."""

import datetime

from django.db.models import Q, QuerySet
from django.utils import timezone

from dangan.security.duties import Duty, check_duty
from dangan.security.permissions import has_permission

from .models import AuditEvent


def may_read_trail(user) -> bool:
    """The audit trail is the security auditor's (安全审计员) alone."""
    return has_permission(user, "audit.trail")


def audit_trail(
    user,
    *,
    who: str = "",
    action: str = "",
    obj: str = "",
    since: datetime.date | None = None,
    until: datetime.date | None = None,
    ip: str = "",
) -> QuerySet[AuditEvent]:
    """Entries of everyone (the other administrators included), newest first, filtered.

    ``who`` matches the user name; ``obj`` the object's type, id or shown name; ``since`` and
    ``until`` are whole days in local time. PermissionDenied for anyone but the auditor.
    """
    check_duty(user, Duty.AUDIT)
    events = AuditEvent.objects.all()
    if who:
        events = events.filter(actor_name__icontains=who)
    if action:
        events = events.filter(action=action)
    if obj:
        events = events.filter(
            Q(object_type__icontains=obj) | Q(object_id=obj) | Q(object_repr__icontains=obj)
        )
    zone = timezone.get_current_timezone()
    if since:
        events = events.filter(at__gte=datetime.datetime.combine(since, datetime.time(), zone))
    if until:
        end = datetime.datetime.combine(until + datetime.timedelta(days=1), datetime.time(), zone)
        events = events.filter(at__lt=end)
    if ip:
        events = events.filter(ip=ip)
    return events.order_by("-id")
