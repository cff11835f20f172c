"""The reading room in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem

from .selectors import is_desk_reader

ITEMS = [MenuItem("access:home", _("Reading room"), is_desk_reader, order=50)]
