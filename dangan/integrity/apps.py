from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrityConfig(AppConfig):
    name = "dangan.integrity"
    label = "integrity"
    verbose_name = _("Four-property checks")

    def ready(self):
        from django.db.models.signals import post_migrate

        from dangan.catalogue import signals as catalogue_signals
        from dangan.content import signals as content_signals
        from dangan.people import signals as people_signals

        from . import background, receivers  # noqa: F401 - background registers its job kinds
        from .fixity import schedule_after_migrate
        from .persons import on_persons_changed

        # `dangan run` migrates at every start: that is when the fixity schedule is (re)started.
        post_migrate.connect(schedule_after_migrate, sender=self)
        # The ledger entry of each change below, in the change's own transaction.
        catalogue_signals.records_written.connect(
            receivers.records_written, dispatch_uid="integrity-ledger-records"
        )
        catalogue_signals.records_related.connect(
            receivers.records_related, dispatch_uid="integrity-ledger-relations"
        )
        content_signals.blobs_stored.connect(
            receivers.blobs_stored, dispatch_uid="integrity-ledger-blobs"
        )
        content_signals.blob_sm3_known.connect(
            receivers.blob_sm3_known, dispatch_uid="integrity-ledger-sm3"
        )
        content_signals.rendition_made.connect(
            receivers.rendition_made, dispatch_uid="integrity-ledger-rendition"
        )
        content_signals.blob_unreadable.connect(
            receivers.blob_unreadable, dispatch_uid="integrity-unreadable"
        )
        # Every change of a person or a link, with the new digest of each record concerned.
        people_signals.persons_changed.connect(
            on_persons_changed, dispatch_uid="integrity-ledger-persons"
        )
