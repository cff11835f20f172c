from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistConfig(AppConfig):
    """智能辅助: duplicates proposed for a person to decide, incoming files classified."""

    name = "dangan.assist"
    label = "assist"
    verbose_name = _("Smart help")

    def ready(self):
        from django.db.models.signals import post_migrate

        from .tasks import schedule_after_migrate

        # The weekly round (training, duplicate scan) is (re)started at each `dangan run`.
        post_migrate.connect(schedule_after_migrate, sender=self)
