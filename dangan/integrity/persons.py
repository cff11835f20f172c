"""The ledger's side of persons: an entry for each person added, corrected or merged, and a new
digest for each record whose persons changed (``people.signals.persons_changed``).

The people app sits below the ledger and cannot call it; it announces its changes inside its
transaction, and ``on_persons_changed`` (connected in ``IntegrityConfig.ready``) appends the
entries in that same transaction.
"""

from dangan.people.digests import links_of, person_digest

from . import ledger
from .models import LedgerEntry
from .receivers import record_entry


def person_entry(kind: str, person, details=None) -> ledger.Pending:
    return ledger.Pending(
        kind=kind, subject=f"person:{person.pk}", digest=person_digest(person), details=details
    )


def record_entries(record_ids, *, cause: dict | None = None) -> list[ledger.Pending]:
    """A ``record.changed`` entry for each record whose digest is no longer its latest entry's
    (a record whose persons changed), none for the others: calling it twice adds nothing."""
    from dangan.catalogue.models import Record
    from dangan.catalogue.services import written

    record_ids = list(record_ids)
    if not record_ids:
        return []
    links, link_ids = links_of(record_ids)
    entries = []
    for record in Record.objects.filter(pk__in=record_ids).order_by("pk"):
        _record, _kind, digest, persons = written(
            record,
            "changed",
            links=links.get(record.pk, []),
            link_ids=link_ids.get(record.pk, []),
        )
        latest = (
            LedgerEntry.objects.filter(subject=f"record:{record.pk}")
            .order_by("-seq")
            .values_list("digest", flat=True)
            .first()
        )
        if latest != digest:
            entries.append(record_entry(record, ledger.RECORD_CHANGED, digest, persons, cause))
    return entries


def on_persons_changed(sender, *, actor, changes, record_ids, reason="", **kwargs):
    entries = [person_entry(kind, person, details or None) for kind, person, details in changes]
    persons = sorted({person.pk for _kind, person, _details in changes})
    cause = {"cause": [f"person:{pk}" for pk in persons]} if persons else None
    entries += record_entries(record_ids, cause=cause)
    ledger.append_many(actor=actor, entries=entries)
