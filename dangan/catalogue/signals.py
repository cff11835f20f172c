"""Signals of the catalogue: how the apps above it learn that records changed, without the
catalogue importing them (see the layers in docs/architecture.md).

Both are sent inside the transaction of the change, and their receivers run at once in it: what
they write commits or rolls back with the change itself.
"""

from django.dispatch import Signal

#: ``record_ids``: records whose description, persons or page text changed (or that are gone).
#: The search index brings their entries up to date (``dangan.search``). ``created`` (optional,
#: from ``services.create_records``): the same records as ``[(record, [(name, ID number), …])]``,
#: saved in this transaction a moment ago, with no pages yet — the index builds their entries
#: from them instead of reading them back.
records_changed = Signal()

#: ``actor`` and ``written``, a list of ``(record, kind, digest, persons)``
#: (``services.written``): records created, filed or changed, ``kind`` is ``"filed"`` or
#: ``"changed"``, ``digest`` the record's ``metadata_digest`` (its fields and who it is about),
#: ``persons`` its links as ``[[person id, role], …]`` in order. The tamper-evident ledger
#: appends one entry for each (``dangan.integrity``).
records_written = Signal()

#: ``actor``, ``relation`` (a ``RecordRelation``) and ``change``, ``"added"`` or ``"removed"``:
#: a relation between records made or removed (``relations.link_records``, ``unlink_records``).
#: The tamper-evident ledger appends a ``record.related`` or ``record.unrelated`` entry.
records_related = Signal()
