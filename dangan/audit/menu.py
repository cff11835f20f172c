"""The audit trail in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem

from .selectors import may_read_trail

ITEMS = [MenuItem("audit:trail", _("Audit trail"), may_read_trail, order=95)]
