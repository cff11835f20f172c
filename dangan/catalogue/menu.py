"""The catalogue and persons' files in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem

from .selectors import may_browse_records

ITEMS = [
    MenuItem("catalogue:record-list", _("Catalogue"), may_browse_records, order=20),
    MenuItem("people:person-search", _("People"), may_browse_records, order=25),
]
