from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntakeConfig(AppConfig):
    name = "dangan.intake"
    label = "intake"
    verbose_name = _("Intake")

    def ready(self):
        from . import background  # noqa: F401 - registers the background import's job kind
