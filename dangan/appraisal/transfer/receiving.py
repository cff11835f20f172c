"""Receiving a transfer package (``dangan import-transfer``): checked first, refused whole when a
check fails; else its records are filed unchanged (same codes, values, persons, bytes), and
their relations made again (``relation`` elements: to a record of the package or one already on
file; one that points to a record neither holds is reported, not guessed)."""

import hashlib
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dangan.accounts.models import Unit
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.models import Category, Fonds, Record
from dangan.catalogue.relations import link_records
from dangan.catalogue.services import RecordDraft, create_records
from dangan.content.models import Blob
from dangan.content.services import attach_blobs, keep_file
from dangan.content.stores import get_store
from dangan.intake.packages import Limited
from dangan.integrity import checks as integrity
from dangan.integrity import ledger
from dangan.integrity.models import CheckReport
from dangan.integrity.services import keep_report
from dangan.people.services import check_person, resolve_persons

from ..blobs import forget_blobs
from ..models import Transfer
from .checking import check_transfer, clean_values, first_evidence
from .layout import SUBJECT_TYPE

#: Files stored per transaction when a package is received.
STORE_BATCH = 500


@dataclass
class Imported:
    transfer: Transfer
    run: integrity.Run
    records: list
    #: ``{"code", "kind", "target"}`` of relations whose other record is not here.
    unresolved: list = ()

    def as_dict(self) -> dict:
        return {
            "package": str(self.transfer.uid),
            "passed": self.run.passed,
            "failed": self.run.failed(),
            "items": len(self.records),
            "files": self.transfer.files,
            "bytes": self.transfer.bytes,
            "report": self.transfer.report_id,
            "relations_unresolved": list(self.unresolved),
        }


def import_transfer(*, actor, source, progress=None) -> Imported:
    """Check a transfer package and, when every check passes, file its records unchanged.

    Refused whole (nothing filed, the report kept) when a check fails: a changed byte, a file
    too many or too few, XML outside our schemas, a code already on file, an unknown category.
    """
    if actor is not None and not getattr(actor, "may_edit_records", False):
        raise PermissionDenied(_("Transfers are received by archivists."))
    run, reading = check_transfer(source)
    bag = reading.bag
    uid = bag.info.get("External-Identifier", "")
    label = bag.info.get("External-Description", Path(str(source)).name)
    report = keep_report(
        actor=actor,
        stage=CheckReport.Stage.HANDOVER,
        subject_type=SUBJECT_TYPE,
        subject_id=uid[:64] or Path(str(source)).name[:64],
        subject_repr=_("Received transfer package %(name)s") % {"name": label},
        run=run,
    )
    if not run.passed:
        raise TransferRefused(run=run, report=report)
    # The bytes go into the store first, a batch of blob rows per commit (their ledger entries
    # with them); the records, their pages and the ledger then in one transaction. Should
    # anything fail after the first bytes are stored, the blobs this package brought (not
    # those already on file) are removed again: nothing is left half-stored.
    files = [f for item in reading.items for f in item.files]
    known = set(
        Blob.objects.filter(sha256__in={f["sha256"] for f in files}).values_list("pk", flat=True)
    )
    blobs = {}
    try:
        for start in range(0, len(files), STORE_BATCH):
            # One commit per batch of blob rows, not one per file.
            with transaction.atomic():
                for f in files[start : start + STORE_BATCH]:
                    member = bag.members[f"data/{f['path']}"]
                    with member.open() as stream:
                        blobs[f["path"]] = keep_file(
                            name=f["filename"], stream=Limited(stream, member.size), actor=actor
                        )
        categories = {c.code: c for c in Category.objects.all()}
        fonds_by_code = {f.code: f for f in Fonds.objects.all()}
        units = {u.code: u for u in Unit.objects.all()}
        with transaction.atomic():
            drafts = []
            for item in reading.items:
                values = clean_values(item.values)
                values["unit"] = units.get(item.unit) if item.unit else None
                checked = [check_person(id_number=n, name=name) for n, name in item.persons]
                persons = resolve_persons(actor=actor, entries=checked) if checked else {}
                drafts.append(
                    RecordDraft(
                        fonds=fonds_by_code[item.fonds],
                        category=categories[item.category],
                        values=values,
                        metadata=item.metadata,
                        persons=[persons[c.number] for c, _name in checked],
                        received_code=(item.code, item.sequence),
                    )
                )
            records = create_records(actor=actor, drafts=drafts)
            total = 0
            for n, (record, item) in enumerate(zip(records, reading.items, strict=True), start=1):
                files = sorted(item.files, key=lambda f: f["page"])
                if files:
                    attach_blobs(
                        actor=actor,
                        record=record,
                        files=[(f["filename"], blobs[f["path"]]) for f in files],
                    )
                    total += sum(f["size"] for f in files)
                if progress:
                    progress(n, len(records))
            unresolved = _relate(actor, records, reading.items)
            digest = hashlib.sha256(bag.tags.get("tagmanifest-sha256.txt", b"")).hexdigest()
            transfer = Transfer.objects.create(
                uid=uid if _is_uuid(uid) else uuid.uuid4(),
                direction=Transfer.Direction.IMPORT,
                fonds=(reading.catalogue.get("fonds") or "")[:16],
                category=reading.catalogue.get("category", ""),
                year=int(reading.catalogue.get("year") or 0),
                items=len(records),
                files=len(blobs),
                bytes=total,
                path=str(source)[:500],
                digest=digest,
                passed=True,
                report=report,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
            record_event(
                actor=actor,
                action=AuditEvent.Action.IMPORT,
                obj=transfer,
                detail={
                    "package": uid,
                    "records": [r.pk for r in records],
                    "digest": digest,
                    "relations_unresolved": unresolved,
                },
            )
            ledger.append(
                kind=ledger.TRANSFER_IMPORTED,
                subject=f"transfer:{transfer.uid}",
                digest=f"sha256:{digest}",
                actor=actor,
                details={
                    "category": transfer.category,
                    "year": transfer.year,
                    "items": len(records),
                    "files": len(blobs),
                    "bytes": total,
                    "codes_digest": ledger.sha256_of([i.code for i in reading.items]),
                },
            )
    except BaseException:
        _discard_new_blobs(actor=actor, blobs=blobs.values(), known=known, package=uid)
        raise
    return Imported(transfer=transfer, run=run, records=records, unresolved=unresolved)


def _discard_new_blobs(*, actor, blobs, known: set, package: str) -> None:
    """Remove what a failed receipt stored: the rows of the blobs it created that no page uses
    (each with its ``content.removed`` ledger entry) and their bytes, and the bytes of a batch
    whose rows were rolled back. Blobs on file before the package came are left alone."""
    new = [blob for blob in blobs if blob.pk not in known]
    forget_blobs(
        actor=actor,
        blob_ids=[blob.pk for blob in new],
        details={"transfer_failed": package[:64]},
    )
    held = set(
        Blob.objects.filter(sha256__in={blob.sha256 for blob in new}).values_list(
            "sha256", flat=True
        )
    )
    store = get_store()
    for key in sorted({blob.key for blob in new if blob.sha256 not in held}):
        store.delete(key)


def _relate(actor, records, items) -> list[dict]:
    """Make the relations the package's items state (audited, in the ledger, as
    ``link_records`` makes any); return those whose other record is neither in the package nor
    on file (or not visible to ``actor``)."""
    by_code = {record.archival_code: record for record in records}
    wanted = {code for item in items for _kind, code in item.relations} - set(by_code)
    by_code |= {r.archival_code: r for r in Record.objects.filter(archival_code__in=wanted)}
    unresolved = []
    for record, item in zip(records, items, strict=True):
        for kind, code in item.relations:
            target = by_code.get(code)
            try:
                if target is None:
                    raise PermissionDenied
                link_records(actor=actor, source=record, target=target, kind=kind)
            except (PermissionDenied, ValidationError):
                unresolved.append({"code": record.archival_code, "kind": kind, "target": code})
    return unresolved


class TransferRefused(ValidationError):
    """A package that failed its checks: nothing was filed; the report says why."""

    def __init__(self, *, run, report):
        self.run, self.report = run, report
        super().__init__(
            _(
                "The package failed the checks %(ids)s (%(first)s); nothing was filed "
                "(report %(report)s)."
            )
            % {"ids": ", ".join(run.failed()), "first": first_evidence(run), "report": report.pk},
            code="transfer_refused",
        )


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True
