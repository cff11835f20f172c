from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    """网上查询: the citizens' side of Dangan (own records, copy requests, open catalogue)."""

    name = "dangan.portal"
    label = "portal"
    verbose_name = _("Citizen portal")

    def ready(self):
        from dangan.access import selectors as access_selectors

        from .selectors import bound_id_number, requestable_by_citizen

        # Which records a citizen may ask a copy of: the access app asks us (we keep the binding).
        access_selectors.citizen_scope.provide(requestable_by_citizen)
        access_selectors.citizen_id_number.provide(bound_id_number)
