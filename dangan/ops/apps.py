from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OpsConfig(AppConfig):
    """Running Dangan on many machines: replica routing, health, metrics, structured logs,
    and the ``dangan worker`` command (see docs/deploy.md)."""

    name = "dangan.ops"
    label = "ops"
    verbose_name = _("Operations")

    def ready(self):
        from dangan.audit.exports import start_trail_export

        from . import audit_jobs

        start_trail_export.provide(audit_jobs.start_trail_export)
