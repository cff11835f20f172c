from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    """检索: the Chinese analyzer and the full-text backends over records and page text."""

    name = "dangan.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self):
        from django.db.models.signals import post_delete

        from dangan.catalogue import selectors as catalogue_selectors
        from dangan.catalogue.models import Record
        from dangan.catalogue.signals import records_changed
        from dangan.people.signals import persons_changed

        from .selectors import matching_record_ids
        from .services import forget_deleted_record, reindex_changed_records

        # Records have no delete service; whatever deletes one, its entry goes in the same
        # transaction, so that a search never offers a record that is gone.
        post_delete.connect(forget_deleted_record, sender=Record, dispatch_uid="search-forget")
        # Records created, filed or changed, their persons renamed, their pages read: their
        # entries follow in the same transaction (sent by the catalogue and digitize).
        records_changed.connect(reindex_changed_records, dispatch_uid="search-reindex")
        # A person corrected, merged or unmerged: the records about them are found by the new
        # name and number, not the old.
        persons_changed.connect(reindex_changed_records, dispatch_uid="search-reindex-persons")
        # The record list's word box asks the index when no code, number or person matched.
        catalogue_selectors.records_matching_words.provide(matching_record_ids)
