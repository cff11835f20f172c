from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SiteConfig(AppConfig):
    """Running the site: the ``dangan run`` command that brings one county up with no setup."""

    name = "dangan.site"
    label = "dangan_site"
    verbose_name = _("Site")

    def ready(self):
        from django.core import checks

        from dangan.pdf import check_fonts

        checks.register(check_fonts)
