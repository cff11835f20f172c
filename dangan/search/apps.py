from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    """检索: the Chinese analyzer and the full-text backends over records and page text."""

    name = "dangan.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self):
        from django.db.models.signals import post_delete

        from dangan.catalogue.models import Record

        from .services import forget_deleted_record

        # Records have no delete service; whatever deletes one, its entry goes in the same
        # transaction, so that a search never offers a record that is gone.
        post_delete.connect(forget_deleted_record, sender=Record, dispatch_uid="search-forget")
