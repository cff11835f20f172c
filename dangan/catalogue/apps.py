from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogueConfig(AppConfig):
    name = "dangan.catalogue"
    label = "catalogue"
    verbose_name = _("Catalogue")

    def ready(self):
        from . import jobs  # noqa: F401  (registers the record list's export job)
