"""Signals of the people app, so that the apps above it (the ledger) hear of every change of a
person or a link without this app importing them."""

from django.dispatch import Signal

#: Sent inside the transaction of every change of persons or of a record's links, by the
#: services of ``people.services``: ``actor``; ``changes``, a list of ``(kind, person,
#: details)`` with kind ``person.added``, ``person.changed``, ``person.merged`` or
#: ``person.unmerged``; ``record_ids``, the records whose persons (links or a person's row)
#: changed; ``reason``, as the user gave it. The ledger (``dangan.integrity``) appends an entry
#: for each person and a new digest for each record.
persons_changed = Signal()
