"""The stacks in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem

from .selectors import may_keep_stacks

ITEMS = [MenuItem("stacks:room-list", _("Stacks"), may_keep_stacks, order=60)]
