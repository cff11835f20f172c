"""Scan batches in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem

from .selectors import may_bring_in_scans

ITEMS = [MenuItem("digitize:batch-list", _("Scans"), may_bring_in_scans, order=40)]
