"""Hand-over lists and the register import in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem

from .filings import may_receive_filings, may_register_senders
from .handover import may_use_handover
from .selectors import may_import_registers

ITEMS = [
    MenuItem("intake:handover-lists", _("Hand-over"), may_use_handover, order=30),
    MenuItem("intake:import-start", _("Import register"), may_import_registers, order=35),
    MenuItem("intake:filing-queue", _("Pre-archive queue"), may_receive_filings, order=32),
    MenuItem("intake:senders", _("Sending systems"), may_register_senders, order=98),
]
