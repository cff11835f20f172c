"""The administration (Django admin) in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem
from dangan.security.duties import may_administer

ITEMS = [MenuItem("admin:index", _("Administration"), may_administer, order=99)]
