"""The counter's binding of citizens' accounts in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem

from .services import may_bind_at_counter

ITEMS = [MenuItem("portal:counter-bind", _("Citizen accounts"), may_bind_at_counter, order=55)]
