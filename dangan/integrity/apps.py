from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrityConfig(AppConfig):
    name = "dangan.integrity"
    label = "integrity"
    verbose_name = _("Four-property checks")
