"""The oversight of units in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem

from .selectors import may_use_oversight

ITEMS = [MenuItem("oversight:home", _("Oversight"), may_use_oversight, order=80)]
