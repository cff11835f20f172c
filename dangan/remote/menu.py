"""Remote requests (异地查档) in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem

from .selectors import is_desk, is_holder, may_register_peers

ITEMS = [
    MenuItem("remote:desk", _("Remote requests"), is_desk, order=52),
    MenuItem("remote:inbox", _("Remote requests received"), is_holder, order=53),
    MenuItem("remote:peers", _("Peer installations"), may_register_peers, order=97),
]
