"""Signals of the content app, so that the apps above it (reading the pages, the ledger, fixity)
learn what happened without the content app importing them (the layers: docs/architecture.md).

Each is sent inside the transaction of the change, and its receivers run at once in it."""

from django.dispatch import Signal

#: Sent inside the transaction that records new original pages: ``pages`` (saved), ``actor``.
pages_added = Signal()

#: Sent inside the transaction that stored bytes new to the store: ``blobs`` (saved),
#: ``actor`` (None for the system) and ``record`` (the record they came for, or None). The
#: ledger appends a ``content.added`` entry for each (``dangan.integrity``).
blobs_stored = Signal()

#: Sent inside the transaction that saved the SM3 digest of a blob stored before: ``blob``,
#: ``sm3`` (hex). The ledger appends its ``content.sm3`` entry.
blob_sm3_known = Signal()

#: Sent inside the transaction that keeps a rendition (a PDF/A made from a born-digital
#: original): ``original`` and ``rendition`` (pages), ``agent`` (the program and its version).
#: The ledger appends a ``content.rendered`` entry.
rendition_made = Signal()

#: Sent when a kept blob cannot be read from the store: ``blob``, ``error``. The fixity audit
#: keeps it as a finding and raises the storage alert (``dangan.integrity.fixity``).
blob_unreadable = Signal()
