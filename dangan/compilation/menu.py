"""Compilations and exhibitions in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem

from .selectors import may_use_compilations

ITEMS = [MenuItem("compilation:home", _("Compilations"), may_use_compilations, order=72)]
