from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrityConfig(AppConfig):
    name = "dangan.integrity"
    label = "integrity"
    verbose_name = _("Four-property checks")

    def ready(self):
        from django.db.models.signals import post_migrate

        from .fixity import schedule_after_migrate

        # `dangan run` migrates at every start: that is when the fixity schedule is (re)started.
        post_migrate.connect(schedule_after_migrate, sender=self)
