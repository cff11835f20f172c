"""What the integrity app does when the apps below it report a change (their signals, connected
in ``IntegrityConfig.ready``): the ledger's entries, in the sender's transaction, and the fixity
finding of a file that could not be read."""

from dangan.content.models import ledger_digest

from . import fixity, ledger


def record_entry(record, kind: str, digest: str, persons, details=None) -> ledger.Pending:
    """The ledger entry of a record: its metadata digest, and in the details its archival code,
    state and persons (``[[person id, role], …]``, what ``dangan verify`` compares a moved link
    with)."""
    return ledger.Pending(
        kind=kind,
        subject=f"record:{record.pk}",
        digest=digest,
        details={
            "archival_code": record.archival_code,
            "state": record.state,
            "persons": persons,
            **(details or {}),
        },
    )


def records_written(sender, actor, written, **kwargs) -> None:
    """``catalogue.signals.records_written``: one ``record.filed`` or ``record.changed`` entry
    per record, with its metadata digest and persons."""
    kinds = {"filed": ledger.RECORD_FILED, "changed": ledger.RECORD_CHANGED}
    ledger.append_many(
        actor=actor,
        entries=[
            record_entry(record, kinds[kind], digest, persons)
            for record, kind, digest, persons in written
        ],
    )


def blobs_stored(sender, actor, blobs, record=None, **kwargs) -> None:
    """``content.signals.blobs_stored``: the ledger entry of bytes new to the store: their
    SHA-256, and their SM3 when it is already known (else it follows in its own entry), as
    ``dangan verify`` checks. No file name: the ledger is kept for good, and a name can be
    personal data."""
    also = {} if record is None else {"record": record.pk}
    ledger.append_many(
        actor=actor,
        entries=[
            ledger.Pending(
                kind=ledger.CONTENT_ADDED,
                subject=f"blob:{blob.sha256}",
                digest=blob.ledger_digest,
                details={"size": blob.size, **also},
            )
            for blob in blobs
        ],
    )


def blob_sm3_known(sender, blob, sm3, **kwargs) -> None:
    """``content.signals.blob_sm3_known``: the ``content.sm3`` entry of a blob stored before."""
    ledger.append_many(
        actor=None,
        entries=[
            ledger.Pending(
                kind=ledger.CONTENT_SM3,
                subject=f"blob:{blob.sha256}",
                digest=ledger_digest(blob.sha256, sm3),
            )
        ],
    )


def rendition_made(sender, original, rendition, agent, **kwargs) -> None:
    """``content.signals.rendition_made``: the ``content.rendered`` entry — the rendition's
    digests, the original it was made from and the program that made it."""
    ledger.append_many(
        actor=None,
        entries=[
            ledger.Pending(
                kind=ledger.CONTENT_RENDERED,
                subject=f"blob:{rendition.blob.sha256}",
                digest=rendition.blob.ledger_digest,
                details={
                    "from": f"sha256:{original.blob.sha256}",
                    "agent": agent,
                    "format": rendition.blob.format_label,
                    "record": original.record_id,
                },
            )
        ],
    )


def blob_unreadable(sender, blob, error, **kwargs) -> None:
    """``content.signals.blob_unreadable``: kept as the blob's fixity finding and alerted now."""
    fixity.report_unreadable(blob, error)


def records_related(sender, actor, relation, change, **kwargs) -> None:
    """``catalogue.signals.records_related``: a ``record.related`` entry when a relation is
    made, ``record.unrelated`` when it is removed, with both records' codes in the details."""
    from dangan.catalogue.relations import relation_digest, relation_subject

    ledger.append(
        kind=ledger.RECORD_RELATED if change == "added" else ledger.RECORD_UNRELATED,
        subject=relation_subject(relation.source_id, relation.target_id, relation.kind),
        digest=relation_digest(relation.source_id, relation.target_id, relation.kind),
        actor=actor,
        details={
            "source": relation.source.archival_code,
            "target": relation.target.archival_code,
            "kind": relation.kind,
        },
    )
