from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Realistic, consistent demonstration data for every category (``dangan demo``)."""

    name = "dangan.demo"
    label = "demo"
    verbose_name = _("Demo data")
