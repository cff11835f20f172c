"""Reading security alerts: the security administrator's alone (and the operator's command)."""

from django.db.models import QuerySet

from dangan.security.duties import Duty, check_duty

from .models import SecurityAlert


def open_alerts() -> QuerySet[SecurityAlert]:
    return SecurityAlert.objects.filter(acknowledged_at__isnull=True).select_related("who")


def alerts_for(user, *, show_closed: bool = False) -> QuerySet[SecurityAlert]:
    """The alerts page of the security administrator (``PermissionDenied`` for anyone else)."""
    check_duty(user, Duty.RIGHTS)
    if show_closed:
        return SecurityAlert.objects.select_related("who", "acknowledged_by")
    return open_alerts()


def as_json(alert: SecurityAlert) -> dict:
    return {
        "id": alert.pk,
        "kind": alert.kind,
        "at": alert.at.isoformat(),
        "last_at": alert.last_at.isoformat(),
        "count": alert.count,
        "who": alert.who_name,
        "summary": alert.summary,
        "link": alert.link,
        "acknowledged_at": alert.acknowledged_at.isoformat() if alert.acknowledged_at else None,
    }
