"""Forgetting blobs no page uses any more: their rows deleted, each with its ``content.removed``
ledger entry (so ``dangan verify`` and the fixity audit know the bytes went on purpose), and
their store keys returned for the caller to delete once the rows are gone for good.

Used when a destruction list is approved (the destroyed records' files) and when a received
transfer package fails after its bytes were stored (the files it brought, nothing half-stored).
"""

from django.db import transaction
from django.db.models import ProtectedError

from dangan.content.models import Blob
from dangan.integrity import ledger


def forget_blobs(*, actor, blob_ids, details: dict) -> list[str]:
    """Delete the rows of the blobs of ``blob_ids`` that no page uses; returns their store keys.

    A blob something else still holds (a staged hand-over file, a page of another record) is
    kept. ``details`` go into every ledger entry (why the bytes were removed)."""
    keys, entries = [], []
    for blob in Blob.objects.filter(pk__in=blob_ids).exclude(pages__isnull=False):
        try:
            with transaction.atomic():
                blob.delete()
        except ProtectedError:
            continue
        keys.append(blob.key)
        entries.append(
            ledger.Pending(
                kind=ledger.CONTENT_REMOVED,
                subject=f"blob:{blob.sha256}",
                digest=blob.ledger_digest,
                details={"sm3": blob.sm3, "size": blob.size, **details},
            )
        )
    ledger.append_many(actor=actor, entries=entries)
    return keys
