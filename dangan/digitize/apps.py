from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DigitizeConfig(AppConfig):
    name = "dangan.digitize"
    label = "digitize"
    verbose_name = _("Digitization")
