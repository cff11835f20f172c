from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """网上查询: the citizens' side of Dangan (own records, copy requests, open catalogue)."""

    name = "dangan.portal"
    label = "portal"
    verbose_name = _("Citizen portal")
