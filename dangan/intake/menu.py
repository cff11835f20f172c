"""Hand-over lists and the register import in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem

from .handover import may_use_handover
from .selectors import may_import_registers

ITEMS = [
    MenuItem("intake:handover-lists", _("Hand-over"), may_use_handover, order=30),
    MenuItem("intake:import-start", _("Import register"), may_import_registers, order=35),
]
