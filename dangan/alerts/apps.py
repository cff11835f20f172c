from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    """Security alerts. Stands on the ground layer, above accounts, audit and security: the apps
    above call ``alerts.services.raise_alert``; accounts and audit, below, tell it by signals
    (connected here)."""

    name = "dangan.alerts"
    label = "alerts"
    verbose_name = _("Security alerts")

    def ready(self):
        from . import receivers  # noqa: F401
