"""Writing what smart help finds and what people decide about it.

* ``fingerprint_pages``: the perceptual hash of every page without one (or whose file changed);
* ``scan_duplicates``: the finders run, their pairs stored as open proposals (a decided pair is
  left as decided);
* ``accept_duplicate``: a person says "the same": persons merged
  (``people.services.merge_persons``), records related, pages noted;
* ``reject_duplicate``: a person says "not the same": the pair is never proposed again.
"""

import logging
import time

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.models import Record, RecordRelation
from dangan.catalogue.relations import link_records
from dangan.content.models import Page
from dangan.content.selectors import BlobUnreadable, open_blob
from dangan.people.models import Person
from dangan.people.services import merge_persons

from . import duplicates, fingerprints
from .models import DuplicateProposal, PageFingerprint
from .selectors import may_review_duplicates

logger = logging.getLogger(__name__)

#: The most bytes of one page read to fingerprint it (a larger file is a document, not a scan).
MAX_IMAGE_BYTES = 80 * 1024 * 1024


def fingerprint_pages(*, progress=None) -> int:
    """Hash every original image page without a fingerprint of its current file; how many."""
    done = 0
    pending = (
        Page.objects.filter(role=Page.Role.ORIGINAL, blob__mime__startswith="image/")
        .exclude(fingerprint__blob_id=F("blob_id"))
        .select_related("blob")
        .order_by("pk")
    )
    total = pending.count()
    for page in pending.iterator(chunk_size=500):
        value = ""
        if page.blob.size <= MAX_IMAGE_BYTES:
            try:
                stream = open_blob(page.blob)
            except BlobUnreadable as error:  # missing or damaged: the fixity check reports it
                logger.warning("Page %s not fingerprinted: %s", page.pk, error)
                continue
            try:
                value = fingerprints.fingerprint(stream.read())
            finally:
                stream.close()
        PageFingerprint.objects.update_or_create(
            page=page, defaults={"blob": page.blob, "dhash": value}
        )
        done += 1
        if progress:
            progress(done, total)
    return done


def scan_duplicates(*, kinds=duplicates.KINDS, progress=None) -> dict[str, dict]:
    """Run the finders of ``kinds`` and store what they find as open proposals.

    A pair found again keeps its row (its score and reason brought up to date while it is
    open); a pair already accepted or rejected is left as it was: a rejected pair is not
    proposed again. An open pair no longer found (a person corrected, a page removed) is
    withdrawn. Returns, per kind, ``{"found", "new", "withdrawn", "seconds"}``.
    """
    summary = {}
    for kind in kinds:
        clock = time.monotonic()
        if kind == duplicates.PAGES:
            fingerprint_pages(progress=progress)
        found = {(f.a, f.b): f for f in duplicates.find(kind)}
        with transaction.atomic():
            known = {
                (p.a, p.b): p
                for p in DuplicateProposal.objects.select_for_update().filter(kind=kind)
            }
            new = [
                DuplicateProposal(kind=kind, a=f.a, b=f.b, score=f.score, reason=f.reason)
                for pair, f in found.items()
                if pair not in known
            ]
            DuplicateProposal.objects.bulk_create(new, batch_size=1000)
            changed = [
                p
                for pair, p in known.items()
                if p.state == DuplicateProposal.State.OPEN
                and pair in found
                and (p.score, p.reason) != (found[pair].score, found[pair].reason)
            ]
            for p in changed:
                p.score, p.reason = found[(p.a, p.b)].score, found[(p.a, p.b)].reason
            DuplicateProposal.objects.bulk_update(changed, ["score", "reason"], batch_size=1000)
            gone = [
                p.pk
                for pair, p in known.items()
                if p.state == DuplicateProposal.State.OPEN and pair not in found
            ]
            DuplicateProposal.objects.filter(pk__in=gone).delete()
        summary[kind] = {
            "found": len(found),
            "new": len(new),
            "withdrawn": len(gone),
            "seconds": round(time.monotonic() - clock, 2),
        }
    return summary


def _decide(*, actor, proposal: DuplicateProposal, state: str, note: str) -> DuplicateProposal:
    if not may_review_duplicates(actor):
        raise PermissionDenied(_("You may not decide about suspected duplicates."))
    proposal = DuplicateProposal.objects.select_for_update().get(pk=proposal.pk)
    if proposal.state != DuplicateProposal.State.OPEN:
        raise ValidationError(_("This pair was decided already."), code="decided_already")
    proposal.state = state
    proposal.decided_by = actor
    proposal.decided_at = timezone.now()
    proposal.note = note
    proposal.save(update_fields=["state", "decided_by", "decided_at", "note"])
    record_event(
        actor=actor,
        action=AuditEvent.Action.UPDATE,
        obj=proposal,
        before={"state": DuplicateProposal.State.OPEN},
        after={"state": state},
        detail={"kind": proposal.kind, "a": proposal.a, "b": proposal.b, "note": note},
    )
    return proposal


def reject_duplicate(*, actor, proposal: DuplicateProposal, note: str = "") -> DuplicateProposal:
    """Not the same: kept as rejected, so that no later scan proposes the pair again."""
    with transaction.atomic():
        return _decide(
            actor=actor,
            proposal=proposal,
            state=DuplicateProposal.State.REJECTED,
            note=(note or "").strip(),
        )


def accept_duplicate(
    *, actor, proposal: DuplicateProposal, reason: str, keep: int | None = None
) -> DuplicateProposal:
    """The same: two persons are merged through ``people.services.merge_persons`` (``keep``
    the id of the row to keep, by default the one with more records; both histories kept, the
    merge undoable); two records are related ("see also", on both records' pages) for the
    archivist to withdraw one; two pages are noted as one (the extra one is removed by hand).
    ``reason`` is required, as for any merge."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for this change."), code="reason_missing")
    with transaction.atomic():
        proposal = _decide(
            actor=actor, proposal=proposal, state=DuplicateProposal.State.ACCEPTED, note=reason
        )
        if proposal.kind == DuplicateProposal.Kind.PERSONS:
            _merge(actor=actor, proposal=proposal, reason=reason, keep=keep)
        elif proposal.kind == DuplicateProposal.Kind.RECORDS:
            records = Record.objects.in_bulk([proposal.a, proposal.b])
            if len(records) == 2:
                link_records(
                    actor=actor,
                    source=records[proposal.b],
                    target=records[proposal.a],
                    kind=RecordRelation.Kind.SEE_ALSO,
                )
    return proposal


def _merge(*, actor, proposal, reason, keep):
    persons = Person.objects.in_bulk([proposal.a, proposal.b])
    if len(persons) != 2:
        raise ValidationError(_("One of the two persons is no more."), code="person_gone")
    a, b = persons[proposal.a], persons[proposal.b]
    if a.birth_date != b.birth_date or a.sex != b.sex:
        # Never: the finder does not propose them, and a changed person is checked again here.
        raise ValidationError(
            _("Two persons whose dates of birth or sexes differ are never merged."),
            code="merge_particulars",
        )
    if keep not in (None, a.pk, b.pk):
        raise ValidationError(_("Keep one of the two persons."), code="keep_which")
    if keep is None:
        keep = max((a, b), key=lambda p: (p.record_links.count(), -p.pk)).pk
    kept, merged = (a, b) if keep == a.pk else (b, a)
    merge_persons(actor=actor, kept=kept, merged=merged, reason=reason)
