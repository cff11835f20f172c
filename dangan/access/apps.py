from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "dangan.access"
    label = "access"
    verbose_name = _("Use of records")

    def ready(self):
        from . import output_jobs  # noqa: F401 - registers the background kinds of outputs
