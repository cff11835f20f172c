from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _install_triggers(sender, using="default", **kwargs):
    from .holdings_triggers import install

    install(using)


class StatsConfig(AppConfig):
    name = "dangan.stats"
    label = "stats"
    verbose_name = _("Statistics")

    def ready(self):
        from . import jobs  # noqa: F401  (registers the exports' background jobs)

        post_migrate.connect(_install_triggers, sender=self)
