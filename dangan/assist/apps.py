from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistConfig(AppConfig):
    """智能辅助: duplicates proposed for a person to decide, incoming files classified, what a
    page says offered beside the fields of a form."""

    name = "dangan.assist"
    label = "assist"
    verbose_name = _("Smart help")

    def ready(self):
        from django.db.models.signals import post_migrate

        from dangan.catalogue import selectors as catalogue_selectors
        from dangan.digitize import ingest
        from dangan.intake import selectors as intake_selectors

        from .classifier import classify_many
        from .selectors import file_page_help, page_help, unnamed_page_help
        from .tasks import schedule_after_migrate

        # The weekly round (training, duplicate scan) is (re)started at each `dangan run`.
        post_migrate.connect(schedule_after_migrate, sender=self)
        # The record's form and page show what its scanned pages say.
        catalogue_selectors.record_page_help.provide(page_help)
        # A scan folder that matches no record: what its first page says, where it belongs.
        ingest.read_unnamed_page.provide(unnamed_page_help)
        # Hand-over items show where the classifier would put them.
        intake_selectors.read_file_page.provide(file_page_help)
        intake_selectors.classify_files.provide(
            lambda texts: [p.as_json() for p in classify_many(texts)]
        )
