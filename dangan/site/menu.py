"""The workbench heads the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem

from .workbench import may_use_workbench

ITEMS = [MenuItem("site:workbench", _("Workbench"), may_use_workbench, order=10)]
