"""The dashboard in the main menu (see ``dangan.menu``)."""

from django.utils.translation import gettext_lazy as _

from dangan.menu import MenuItem

from .selectors import may_see_statistics

ITEMS = [MenuItem("stats:dashboard", _("Dashboard"), may_see_statistics, order=75)]
