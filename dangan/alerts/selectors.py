"""Reading security alerts: the security administrator's alone (and the operator's command)."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from dangan.security.permissions import has_permission

from .models import SecurityAlert


def may_see_alerts(user) -> bool:
    """The alerts page and its menu item: the security administrator's."""
    return has_permission(user, "alerts.view")


def open_alerts() -> QuerySet[SecurityAlert]:
    return SecurityAlert.objects.filter(acknowledged_at__isnull=True).select_related("who")


def alerts_for(user, *, show_closed: bool = False) -> QuerySet[SecurityAlert]:
    """The alerts page of the security administrator (``PermissionDenied`` for anyone else)."""
    if not may_see_alerts(user):
        raise PermissionDenied(_("This is not part of your duties."))
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
