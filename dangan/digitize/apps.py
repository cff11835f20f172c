from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DigitizeConfig(AppConfig):
    name = "dangan.digitize"
    label = "digitize"
    verbose_name = _("Digitization")

    def ready(self):
        from dangan.content.signals import pages_added

        from .services import queue_pages

        pages_added.connect(
            lambda sender, pages, **kwargs: queue_pages(pages), weak=False, dispatch_uid="ocr"
        )
