from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AppraisalConfig(AppConfig):
    """鉴定: retention at work, appraisal batches, lawful destruction, transfer out and in."""

    name = "dangan.appraisal"
    label = "appraisal"
    verbose_name = _("Appraisal and transfer")

    def ready(self):
        from django.db.models.signals import pre_delete

        from dangan.catalogue.models import Record
        from dangan.integrity import stages

        from . import transfer
        from .services import refuse_tombstone_deletion

        # A tombstone is the archive's proof of a lawful destruction, kept for good: whatever
        # tries to delete one (a bulk SQL fix through the ORM, a future admin page) is refused.
        pre_delete.connect(
            refuse_tombstone_deletion, sender=Record, dispatch_uid="appraisal-tombstone"
        )
        # `dangan check --stage transfer` (dangan.integrity) reads packages through us.
        stages.transfer_checks.provide(transfer.check_transfer)
