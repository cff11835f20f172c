"""Security alerts in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem
from dangan.security.duties import Duty, has_duty


def may_read_security_alerts(user) -> bool:
    """The security administrator's alerts page (``selectors.alerts_for`` checks the same duty)."""
    return has_duty(user, Duty.RIGHTS)


ITEMS = [MenuItem("alerts:list", _("Security alerts"), may_read_security_alerts, order=93)]
