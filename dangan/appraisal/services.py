"""Writing appraisal: holds, batches and decisions, destruction lists, lawful destruction.

The one way a record's content leaves the archive is ``approve_destruction``: a list proposed by
one person, approved by the designated head (a second person, a leader), and in the same
transaction the content is removed, the record becomes a tombstone, the audit trail and the
ledger (账本) record it. The bytes of blobs no other page needs are removed from the store only
after that transaction commits, so a failure leaves every record and every byte in place.
"""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.accounts import approvals
from dangan.accounts.models import ApprovalFlow
from dangan.accounts.selectors import may_write_record
from dangan.accounts.services import approval_steps
from dangan.audit.models import AuditEvent
from dangan.audit.services import Event, record_event, record_events
from dangan.catalogue.models import Openness, Record
from dangan.catalogue.selectors import visible_records
from dangan.catalogue.services import update_record
from dangan.content.models import Page
from dangan.content.stores import get_store
from dangan.integrity import ledger
from dangan.people.models import RecordPerson
from dangan.search.services import reindex_records
from dangan.security.permissions import has_permission

from . import selectors
from .blobs import forget_blobs
from .models import (
    OPENING_CHOICES,
    RETENTION_CHOICES,
    Batch,
    BatchItem,
    Choice,
    Decision,
    DestructionItem,
    DestructionList,
    Hold,
    Tombstone,
)

#: Fields a tombstone keeps on the record row; every other describing field is emptied.
TOMBSTONE_FIELDS = {"archival_code", "title", "year", "retention", "fonds", "category", "level"}
#: Describing fields emptied at destruction (personal data lives in them and in the persons).
#: What a tombstone keeps none of: personal metadata, and the title (a person file's title
#: carries the person's name). It keeps its archival code, year, retention, the decision and
#: the ledger's digest.
_SCRUBBED = {
    "title": "",
    "date": None,
    "responsible": "",
    "doc_number": "",
    "remarks": "",
    "legacy_number": "",
    "box_number": "",
    "metadata": {},
    "page_count": None,
    "secrecy_term": "",
}


def refuse_tombstone_deletion(sender, instance, **kwargs) -> None:
    """``pre_delete`` of a record: a destroyed record's tombstone is kept for good."""
    if instance.state == Record.State.DESTROYED:
        raise PermissionDenied(_("A destroyed record's tombstone is kept permanently."))


def _require_archivist(actor) -> None:
    if not getattr(actor, "may_edit_records", False):
        raise PermissionDenied(_("Appraisal is done by archivists."))


def _writable(actor, records) -> None:
    for record in records:
        if not may_write_record(actor, record):
            raise PermissionDenied(
                _("You may not appraise record %(code)s.") % {"code": record.archival_code}
            )


# --- Holds ---------------------------------------------------------------------------------------
def place_hold(*, actor, record: Record, kind: str, reason: str, until=None) -> Hold:
    """保留: stop ``record``'s expiry (a dispute, an audit) until released or ``until``."""
    _require_archivist(actor)
    _writable(actor, [record])
    if not (reason or "").strip():
        raise ValidationError(_("Say why the record is held."), code="hold_reason")
    if until is not None and until < timezone.localdate():
        raise ValidationError(_("A hold cannot end in the past."), code="hold_until")
    with transaction.atomic():
        hold = Hold.objects.create(
            record=record, kind=kind, reason=reason.strip(), until=until, placed_by=actor
        )
        record_event(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=hold,
            detail={"record": record.pk, "kind": kind, "until": until},
        )
    return hold


def release_hold(*, actor, hold: Hold) -> Hold:
    _require_archivist(actor)
    _writable(actor, [hold.record])
    with transaction.atomic():
        hold = Hold.objects.select_for_update().get(pk=hold.pk)
        if hold.released_at is None:
            hold.released_at, hold.released_by = timezone.now(), actor
            hold.save(update_fields=["released_at", "released_by"])
            record_event(
                actor=actor,
                action=AuditEvent.Action.UPDATE,
                obj=hold,
                detail={"record": hold.record_id, "change": "released"},
            )
    return hold


# --- Batches and decisions -----------------------------------------------------------------------
def open_batch(*, actor, kind: str, title: str, records, members) -> Batch:
    """Put ``records`` before a committee of ``members`` (users who may see every one of them).

    A retention batch takes only records that are due (expired, not held, not kept); an opening
    batch only records past the closed period that were not opened yet."""
    _require_archivist(actor)
    records = list(records)
    members = list(members)
    if not records:
        raise ValidationError(_("Choose at least one record."), code="batch_empty")
    if not members:
        raise ValidationError(_("Name at least one committee member."), code="batch_no_members")
    _writable(actor, records)
    offered = (
        selectors.due_records(actor)
        if kind == Batch.Kind.RETENTION
        else selectors.due_for_opening(actor)
    )
    pks = [r.pk for r in records]
    ok = set(offered.filter(pk__in=pks).values_list("pk", flat=True))
    refused = [r.archival_code for r in records if r.pk not in ok]
    if refused:
        raise ValidationError(
            _("Not due for this appraisal (held, kept, or not expired): %(codes)s")
            % {"codes": ", ".join(refused[:20])},
            code="not_due",
        )
    for member in members:
        if visible_records(member).filter(pk__in=pks).count() != len(set(pks)):
            raise ValidationError(
                _("%(name)s may not see every record of the batch.") % {"name": member},
                code="member_scope",
            )
    with transaction.atomic():
        batch = Batch.objects.create(title=title.strip()[:200], kind=kind, opened_by=actor)
        batch.members.set(members)
        BatchItem.objects.bulk_create(BatchItem(batch=batch, record=r) for r in records)
        record_event(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=batch,
            detail={
                "kind": kind,
                "records": pks,
                "members": [m.username for m in members],
            },
        )
    return batch


def decide(
    *, actor, item: BatchItem, choice: str, reason: str, new_retention: str = ""
) -> Decision:
    """A committee member's decision on one item, with the reason (changeable until closed)."""
    batch = Batch.objects.get(pk=item.batch_id)
    if batch.state != Batch.State.OPEN:
        raise ValidationError(_("The batch is closed."), code="batch_closed")
    if not batch.members.filter(pk=actor.pk).exists():
        raise PermissionDenied(_("Only the committee decides."))
    allowed = RETENTION_CHOICES if batch.kind == Batch.Kind.RETENTION else OPENING_CHOICES
    if choice not in allowed:
        raise ValidationError(_("Not a decision of this appraisal."), code="bad_choice")
    if choice == Choice.EXTEND and not new_retention:
        raise ValidationError(_("Keeping longer needs the new period."), code="no_period")
    if not (reason or "").strip():
        raise ValidationError(_("Give the reason for the decision."), code="no_reason")
    with transaction.atomic():
        decision, _created = Decision.objects.update_or_create(
            item=item,
            member=actor,
            defaults={
                "choice": choice,
                "reason": reason.strip()[:500],
                "new_retention": new_retention if choice == Choice.EXTEND else "",
            },
        )
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=batch,
            detail={
                "record": item.record_id,
                "decision": choice,
                "new_retention": decision.new_retention,
                "reason": decision.reason,
            },
        )
    return decision


#: The more cautious decision wins: what one member would keep, the committee keeps.
_CAUTION = {
    Choice.DESTROY: 0,
    Choice.EXTEND: 1,
    Choice.PERMANENT: 2,
    Choice.OPEN: 0,
    Choice.CONTROLLED: 1,
    Choice.DELAYED: 2,
}


def outcome_of(decisions) -> tuple[str, str]:
    """The committee's outcome for one item: ``(choice, new period)``, ``("", "")`` undecided.

    An item is destroyed (or opened) only when every member who decided said so; otherwise the
    most cautious decision stands, and of two extensions the longer one."""
    decisions = list(decisions)
    if not decisions:
        return "", ""
    worst = max(decisions, key=lambda d: (_CAUTION[d.choice], int(d.new_retention[1:] or 0)))
    return worst.choice, worst.new_retention


def close_batch(*, actor, batch: Batch) -> Batch:
    """Close a batch: each item's outcome is fixed; an opening batch's outcomes are written to
    the records' openness (开放/控制/延期开放) through the catalogue, audited — at once, or, when
    the county set approval steps for opening reviews (开放审核), once the last step approves
    (``approve_opening``); till then the batch awaits approval."""
    if batch.opened_by_id != actor.pk:
        raise PermissionDenied(_("The batch is closed by the archivist who opened it."))
    today = timezone.localdate()
    with transaction.atomic():
        batch = Batch.objects.select_for_update().get(pk=batch.pk)
        if batch.state != Batch.State.OPEN:
            raise ValidationError(_("The batch is closed."), code="batch_closed")
        items = list(batch.items.select_related("record").prefetch_related("decisions"))
        for item in items:
            item.outcome, item.new_retention = outcome_of(item.decisions.all())
            if item.outcome == Choice.EXTEND:
                years = int(item.new_retention[1:])
                item.kept_until = datetime.date(today.year + 1 + years, 1, 1)
        stepwise = batch.kind == Batch.Kind.OPENING and approval_steps(ApprovalFlow.Kind.OPENING)
        if not stepwise:
            _write_openness(actor, items)
        BatchItem.objects.bulk_update(items, ["outcome", "new_retention", "kept_until"])
        batch.state = Batch.State.AWAITING if stepwise else Batch.State.CLOSED
        batch.closed_by, batch.closed_at = actor, timezone.now()
        batch.save(update_fields=["state", "closed_by", "closed_at"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=batch,
            detail={
                "change": "awaiting approval" if stepwise else "closed",
                "outcomes": {str(i.record_id): i.outcome or "undecided" for i in items},
            },
        )
    return batch


def _write_openness(actor, items) -> None:
    for item in items:
        if item.outcome in OPENING_CHOICES:
            update_record(
                actor=actor, record=item.record, values={"openness": Openness(item.outcome).value}
            )


# --- Opening reviews in steps (开放审核) ----------------------------------------------------------
def may_approve_opening(user, batch: Batch) -> bool:
    """Whether the opening review ``batch`` waits for ``user``'s step (the page's buttons)."""
    return batch.state == Batch.State.AWAITING and approvals.is_turn_of(
        user, ApprovalFlow.Kind.OPENING, batch, requester_id=batch.closed_by_id
    )


def _lock_awaiting(actor, batch: Batch) -> Batch:
    batch = Batch.objects.select_for_update().get(pk=batch.pk)
    if batch.state != Batch.State.AWAITING:
        raise ValidationError(_("This batch does not wait for approval."), code="not_awaiting")
    approvals.check_turn(actor, ApprovalFlow.Kind.OPENING, batch, requester_id=batch.closed_by_id)
    pks = list(batch.items.values_list("record_id", flat=True))
    if visible_records(actor).filter(pk__in=pks).count() != len(pks):
        raise PermissionDenied(_("You may not see every record of the batch."))
    return batch


def approve_opening(*, actor, batch: Batch, reason: str = "") -> Batch:
    """Take the step the opening review waits for; at the last step the outcomes are written to
    the records' openness (by the archivist who closed the batch, whose rights they are)."""
    with transaction.atomic():
        batch = _lock_awaiting(actor, batch)
        last = approvals.take_step(
            actor=actor,
            kind=ApprovalFlow.Kind.OPENING,
            subject=batch,
            requester_id=batch.closed_by_id,
            reason=reason,
        )
        if last:
            _write_openness(batch.closed_by, list(batch.items.select_related("record")))
            batch.state = Batch.State.CLOSED
            batch.save(update_fields=["state"])
            record_event(
                actor=actor, action=AuditEvent.Action.UPDATE, obj=batch, detail={"change": "closed"}
            )
    return batch


def reject_opening(*, actor, batch: Batch, reason: str) -> Batch:
    """Refuse the opening review at the step that waits (the reason required): nothing is
    opened; the records stay due for a new review."""
    if not (reason or "").strip():
        raise ValidationError(_("Give the reason for the refusal."), code="reason_missing")
    with transaction.atomic():
        batch = _lock_awaiting(actor, batch)
        batch.state = Batch.State.REJECTED
        batch.save(update_fields=["state"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=batch,
            detail={"change": "not approved", "reason": reason.strip()[:500]},
        )
    return batch


# --- Destruction ---------------------------------------------------------------------------------
def offered_for_destruction(batch: Batch):
    """Items of a closed retention batch decided for destruction that may still be destroyed:
    not held now, not destroyed, not on another list awaiting approval."""
    pending = DestructionItem.objects.filter(
        destruction_list__state=DestructionList.State.PROPOSED
    ).values("record_id")
    return (
        batch.items.filter(outcome=Choice.DESTROY, record__state=Record.State.FILED)
        .exclude(record_id__in=selectors.active_holds().values("record_id"))
        .exclude(record_id__in=pending)
        .select_related("record")
        .prefetch_related("decisions__member")
    )


def propose_destruction(*, actor, batch: Batch, approver=None) -> DestructionList:
    """销毁清单: what the committee decided to destroy, for ``approver`` (a leader) to approve —
    or, when the county set approval steps for destruction, for each step's role in turn (no
    approver is named then)."""
    _require_archivist(actor)
    batch = Batch.objects.get(pk=batch.pk)
    if batch.kind != Batch.Kind.RETENTION or batch.state != Batch.State.CLOSED:
        raise ValidationError(
            _("A destruction list is made from a closed expiry appraisal."), code="batch_state"
        )
    if destruction_in_steps():
        approver = None
    elif not has_permission(approver, "appraisal.approve"):
        raise ValidationError(_("The approver must be a leader."), code="approver_role")
    elif approver.pk == actor.pk:
        raise ValidationError(_("Proposer and approver must be two people."), code="same_person")
    items = list(offered_for_destruction(batch))
    if not items:
        raise ValidationError(_("Nothing in this batch is to be destroyed."), code="list_empty")
    _writable(actor, [i.record for i in items])
    pks = [i.record_id for i in items]
    if approver is not None and visible_records(approver).filter(pk__in=pks).count() != len(pks):
        raise ValidationError(
            _("The approver may not see every record of the list."), code="approver_scope"
        )
    with transaction.atomic():
        listing = DestructionList.objects.create(batch=batch, proposed_by=actor, approver=approver)
        DestructionItem.objects.bulk_create(
            DestructionItem(
                destruction_list=listing,
                record=i.record,
                archival_code=i.record.archival_code or "",
                title=i.record.title,
                year=i.record.year,
                retention=i.record.retention,
                reasons="\n".join(
                    f"{d.member.get_full_name() or d.member.username}: {d.reason}"
                    for d in i.decisions.all()
                ),
            )
            for i in items
        )
        record_event(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=listing,
            detail={
                "batch": batch.pk,
                "records": pks,
                "approver": approver.username if approver else None,
            },
        )
    return listing


def reject_destruction(*, actor, listing: DestructionList, note: str) -> DestructionList:
    with transaction.atomic():
        listing = _lock_for_decision(actor, listing)
        listing.state, listing.decided_at = DestructionList.State.REJECTED, timezone.now()
        listing.note = (note or "").strip()[:500]
        listing.save(update_fields=["state", "decided_at", "note"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=listing,
            detail={"change": "rejected", "note": listing.note},
        )
    return listing


def destruction_in_steps() -> bool:
    """Whether the county set approval steps for destruction lists."""
    return bool(approval_steps(ApprovalFlow.Kind.DESTRUCTION))


def may_decide_destruction(user, listing: DestructionList) -> bool:
    """Whether ``listing`` waits for ``user`` (the page's buttons)."""
    if listing.state != DestructionList.State.PROPOSED or user.pk == listing.proposed_by_id:
        return False
    if listing.approver_id is None:
        return approvals.is_turn_of(
            user, ApprovalFlow.Kind.DESTRUCTION, listing, requester_id=listing.proposed_by_id
        )
    return listing.approver_id == user.pk and has_permission(user, "appraisal.approve")


def _lock_for_decision(actor, listing: DestructionList) -> DestructionList:
    listing = DestructionList.objects.select_for_update().get(pk=listing.pk)
    if listing.proposed_by_id == getattr(actor, "pk", None):
        raise PermissionDenied(_("Proposer and approver must be two people."))
    if listing.approver_id is None:  # the county's steps
        approvals.check_turn(
            actor, ApprovalFlow.Kind.DESTRUCTION, listing, requester_id=listing.proposed_by_id
        )
        pks = list(listing.items.values_list("record_id", flat=True))
        if visible_records(actor).filter(pk__in=pks).count() != len(pks):
            raise PermissionDenied(_("You may not see every record of the list."))
    elif listing.approver_id != getattr(actor, "pk", None) or not has_permission(
        actor, "appraisal.approve"
    ):
        raise PermissionDenied(_("Only the designated head approves this destruction list."))
    if listing.state != DestructionList.State.PROPOSED:
        raise ValidationError(_("This list was already decided."), code="list_decided")
    return listing


def approve_destruction(*, actor, listing: DestructionList, note: str = "") -> DestructionList:
    """The designated head approves the list; its records are destroyed in the same transaction.

    Refused when the actor is not the designated head, is the proposer, or when a record of the
    list came under a hold since it was proposed (the list must then be made again)."""
    with transaction.atomic():
        listing = _lock_for_decision(actor, listing)
        items = list(listing.items.select_related("record", "record__category", "record__fonds"))
        held = selectors.active_holds().filter(record_id__in=[i.record_id for i in items])
        if held.exists():
            raise ValidationError(
                _("Records of this list are now held: %(codes)s. Reject it and make it again.")
                % {"codes": ", ".join(held.values_list("record__archival_code", flat=True))},
                code="list_held",
            )
        if listing.approver_id is None and not approvals.take_step(
            actor=actor,
            kind=ApprovalFlow.Kind.DESTRUCTION,
            subject=listing,
            requester_id=listing.proposed_by_id,
            reason=note,
        ):
            return listing  # waits for the next step
        now = timezone.now()
        listing.state, listing.decided_at = DestructionList.State.DESTROYED, now
        listing.note = (note or "").strip()[:500]
        listing.save(update_fields=["state", "decided_at", "note"])
        committee = ", ".join(
            m.get_full_name() or m.username for m in listing.batch.members.order_by("username")
        )
        approved_by = actor.get_full_name() or actor.username
        orphans = set()
        for item in items:
            orphans |= _destroy(
                actor=actor,
                record=item.record,
                listing=listing,
                committee=committee,
                approved_by=approved_by,
                now=now,
            )
        keys = forget_blobs(actor=actor, blob_ids=orphans, details={"destruction_list": listing.pk})
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=listing,
            detail={
                "change": "approved",
                "records": [i.record_id for i in items],
                "blobs_removed": len(keys),
                "note": listing.note,
            },
        )
        store = get_store()
        transaction.on_commit(lambda: [store.delete(key) for key in keys])
    return listing


def _destroy(*, actor, record: Record, listing, committee, approved_by, now) -> set:
    """Make one record a tombstone; returns the ids of the blobs its pages used."""
    record = Record.objects.select_for_update().get(pk=record.pk)
    if record.state != Record.State.FILED:
        raise ValidationError(
            _("%(code)s is not a filed record.") % {"code": record.archival_code},
            code="not_filed",
        )
    pages = Page.objects.filter(record=record)
    blob_ids = set(pages.values_list("blob_id", flat=True))
    # What the scanning pipeline made of each page (searchable PDF, thumbnail, preview) goes too.
    for made in pages.values_list(
        "processing__searchable_pdf_id", "processing__thumbnail_id", "processing__preview_id"
    ):
        blob_ids.update(pk for pk in made if pk)
    removed = pages.aggregate(n=Sum("blob__size"))["n"] or 0
    page_count = pages.count()
    # Derived pages first, leaves first: each PROTECTs the page it was made from.
    while pages.filter(derivatives__isnull=True).exclude(role=Page.Role.ORIGINAL).exists():
        Page.objects.filter(
            pk__in=list(
                pages.filter(derivatives__isnull=True)
                .exclude(role=Page.Role.ORIGINAL)
                .values_list("pk", flat=True)
            )
        ).delete()
    pages.delete()
    _clear_placement(record)
    RecordPerson.objects.filter(record=record).delete()
    tombstone = Tombstone.objects.create(
        record=record,
        destruction_list=listing,
        archival_code=record.archival_code or "",
        title="",  # the destruction list approved kept the title; the tombstone keeps no name
        year=record.year,
        category=f"{record.category.code} {record.category.name}"[:120],
        fonds=record.fonds.code,
        retention=record.retention,
        destroyed_at=now,
        decided_by=committee[:500],
        approved_by=approved_by[:150],
        pages_removed=page_count,
        bytes_removed=removed,
    )
    for name, value in _SCRUBBED.items():
        setattr(record, name, value)
    record.state = Record.State.DESTROYED
    record.save()
    reindex_records([record.pk])
    # The audit event keeps only the tombstone: the scrubbed values are what was destroyed.
    record_events(
        actor=actor,
        events=[
            Event(
                action=AuditEvent.Action.DELETE,
                obj=record,
                after={"state": Record.State.DESTROYED, "tombstone": tombstone.pk},
                detail={"destruction_list": str(listing), "pages_removed": page_count},
            )
        ],
    )
    ledger.append(
        kind=ledger.RECORD_DESTROYED,
        subject=f"record:{record.pk}",
        digest=_record_digest(record),
        actor=actor,
        details={
            "archival_code": record.archival_code,
            "destruction_list": listing.pk,
            "tombstone": tombstone.pk,
            "pages_removed": page_count,
        },
    )
    return blob_ids


def _record_digest(record) -> str:
    """The digest the ledger keeps of a record's metadata, as the catalogue computes it."""
    from dangan.catalogue.services import metadata_digest

    return metadata_digest(record)


def _clear_placement(record) -> None:
    """The paper is destroyed too: the record leaves its box (stacks)."""
    try:
        from dangan.stacks.models import Placement
    except ImportError:  # pragma: no cover - stacks not installed
        return
    Placement.objects.filter(record=record).delete()
