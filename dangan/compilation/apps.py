from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CompilationConfig(AppConfig):
    name = "dangan.compilation"
    label = "compilation"
    verbose_name = _("Compilations and exhibitions")

    def ready(self):
        from . import jobs  # noqa: F401 - registers the export jobs
