"""Storage alerts and the integrity pages in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem

from .alerts import may_view_alerts
from .ledger_views import may_view_integrity

ITEMS = [
    MenuItem("storage:alert-list", _("Storage"), may_view_alerts, order=85),
    MenuItem("integrity:verify-runs", _("Integrity"), may_view_integrity, order=90),
]
