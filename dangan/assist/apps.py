from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistConfig(AppConfig):
    """智能辅助: duplicates proposed for a person to decide, incoming files classified."""

    name = "dangan.assist"
    label = "assist"
    verbose_name = _("Smart help")
