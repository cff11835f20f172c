"""The security alerts in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem

from .selectors import may_see_alerts

ITEMS = [MenuItem("alerts:list", _("Security alerts"), may_see_alerts, order=96)]
