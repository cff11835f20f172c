"""Hand-over lists (移交清单): drafting, sending, the receipt check, the archive's answer.

The services of hand-over, in the order a list lives them:

``create_list`` → ``add_item`` / ``update_item`` / ``remove_item`` (a draft, its clerk's unit
only; files are staged in the content store as blobs linked to no record) → ``submit`` (the
list is frozen and the receipt check runs, its report kept) → ``answer`` (the archivist accepts
or returns each item; accepted items are filed as records with their persons and pages in one
transaction, the audit trail naming who handed over and who accepted) → ``new_version`` (the
clerk corrects the returned items in a new version of the list, which is sent in turn).
"""

import datetime
import uuid

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.audit.models import AuditEvent
from dangan.audit.services import Event, record_event, record_events
from dangan.catalogue.dates import parse_date
from dangan.catalogue.services import RecordDraft, check_draft, create_records
from dangan.content.models import Blob
from dangan.content.services import attach_blobs, keep_file
from dangan.integrity import checks as integrity
from dangan.integrity.models import CheckReport
from dangan.integrity.selectors import latest_report
from dangan.integrity.services import keep_report
from dangan.people import id_numbers
from dangan.people.services import check_person, resolve_persons
from dangan.security.permissions import has_permission

from . import selectors
from .models import HandoverItem, HandoverList, ItemDecision, ItemFile

#: Core record fields an item may carry (the rest of the description is the category's schema).
ITEM_FIELDS = [
    "title",
    "date",
    "year",
    "responsible",
    "legacy_number",
    "doc_number",
    "retention",
    "openness",
    "page_count",
    "remarks",
]
SUBJECT_TYPE = "intake.handoverlist"


def is_clerk(user) -> bool:
    """Draws up and sends lists for their own unit (unit and town clerks by default)."""
    return has_permission(user, "intake.send") and bool(user.unit_id)


def may_use_handover(user) -> bool:
    """Hand-over lists: unit and town clerks send them, archivists receive them."""
    return is_clerk(user) or has_permission(user, "intake.receive")


def _own_draft(actor, handover: HandoverList) -> None:
    if not is_clerk(actor) or actor.unit_id != handover.unit_id:
        raise PermissionDenied(_("Only a clerk of the list's unit may change it."))
    if handover.state != HandoverList.State.DRAFT:
        raise ValidationError(
            _("This list has been sent; it can no longer change."), code="handover_sent"
        )


# --- Checking an item ----------------------------------------------------------------------------
def item_draft(
    handover: HandoverList, values: dict, metadata: dict, persons=(), *, with_unit=True
) -> RecordDraft:
    """The record an item would become (persons left out: they are resolved at acceptance).
    ``with_unit`` False leaves the unit out, for a check that need not read it again."""
    values = {k: v for k, v in values.items() if k in ITEM_FIELDS and v not in (None, "")}
    date = values.get("date")
    if date is not None and not isinstance(date, datetime.date):
        partial = parse_date(date)
        values["date"] = partial.first_day if partial else None
    if "year" not in values and values.get("date"):
        values["year"] = values["date"].year
    if not values.get("title") and persons and "{name}" in (handover.category.title_template or ""):
        values["title"] = handover.category.title_template.format(name=persons[0]["name"])
    values.setdefault("openness", "unreviewed")
    if with_unit:
        values["unit"] = handover.unit
    return RecordDraft(
        fonds=handover.fonds, category=handover.category, values=values, metadata=dict(metadata)
    )


def item_errors(
    handover: HandoverList, values: dict, metadata: dict, persons: list, *, schema_cache=None
) -> list[str]:
    """What is missing or wrong in an item's description, as sentences (empty: nothing).
    ``schema_cache``: a dict shared over the items of one list (the schema is read once)."""
    errors = []
    try:
        draft = item_draft(handover, values, metadata, persons, with_unit=False)
        check_draft(draft, schema_cache=schema_cache)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for name, problems in error.message_dict.items():
                errors += [f"{name}: {message}" for message in problems]
        else:
            errors += error.messages
    for person in persons:
        try:
            check_person(id_number=person.get("id_number"), name=person.get("name"))
        except ValidationError as error:
            masked = id_numbers.mask(str(person.get("id_number") or ""))
            errors += [f"{person.get('name', '')} {masked}: {m}" for m in error.messages]
    return errors


def _clean_persons(persons) -> list[dict]:
    return [
        {"id_number": str(p.get("id_number", "")).strip(), "name": str(p.get("name", "")).strip()}
        for p in persons or ()
        if p.get("id_number") or p.get("name")
    ]


def _keep_files(actor, files) -> list[tuple]:
    """``files``: ``(name, stream or Blob)`` or ``(name, stream or Blob, declared SHA-256)``,
    in page order; a stream is stored before the item's transaction begins, so that a file
    refused as malicious stays in the audit trail when the item is not saved (a Blob is
    already in the store: a completed resumable upload). Returns ``stage_blobs``'s
    ``(name, Blob, declared SHA-256 or None)``."""
    kept = []
    for entry in files:
        name, source = entry[0], entry[1]
        declared = entry[2] if len(entry) > 2 and entry[2] else None
        if not isinstance(source, Blob):
            source = keep_file(actor=actor, name=name, stream=source)
        kept.append((name, source, declared))
    return kept


def stage_blobs(item: HandoverItem, blobs) -> None:
    """``blobs``: ``(name, Blob, declared SHA-256)`` already in the store, in page order. Without
    a declared SHA-256 the file counts as sent as it arrived (its digest and size)."""
    ItemFile.objects.bulk_create(
        ItemFile(
            item=item,
            position=n,
            filename=name,
            blob=blob,
            declared_sha256=(declared or blob.sha256).lower(),
            declared_size=blob.size if declared is None else None,
        )
        for n, (name, blob, declared) in enumerate(blobs, start=1)
    )


# --- Drafting ------------------------------------------------------------------------------------
def create_list(*, actor, fonds, category, title: str, unit=None) -> HandoverList:
    """A new draft list of ``actor``'s unit (a clerk's own unit; ``unit`` only for the system)."""
    if actor is not None and not is_clerk(actor):
        raise PermissionDenied(_("Only unit and town clerks draw up hand-over lists."))
    unit = unit if actor is None else actor.unit
    if category.children.exists():
        raise ValidationError(
            _("Records are filed in a category of the lowest level, not in a group."),
            code="group_category",
        )
    with transaction.atomic():
        handover = HandoverList.objects.create(
            uid=uuid.uuid4(),
            unit=unit,
            fonds=fonds,
            category=category,
            title=title.strip() or category.name,
            created_by=actor,
        )
        record_event(actor=actor, action=AuditEvent.Action.CREATE, obj=handover)
    return handover


def add_item(*, actor, handover, values: dict, metadata=None, persons=(), files=()):
    """Add an item to a draft list; its description must already be complete and valid."""
    _own_draft(actor, handover)
    metadata, persons = dict(metadata or {}), _clean_persons(persons)
    errors = item_errors(handover, values, metadata, persons)
    if errors:
        raise ValidationError(errors)
    kept = _keep_files(actor, files)
    with transaction.atomic():
        last = handover.items.aggregate(last=Max("position"))["last"] or 0
        item = HandoverItem.objects.create(
            handover=handover,
            position=last + 1,
            values=_json_values(values),
            metadata=metadata,
            persons=persons,
        )
        stage_blobs(item, kept)
    return item


def update_item(*, actor, item: HandoverItem, values: dict, metadata=None, persons=(), files=()):
    """Correct an item of a draft; given ``files`` replace the item's files."""
    _own_draft(actor, item.handover)
    metadata, persons = dict(metadata or {}), _clean_persons(persons)
    errors = item_errors(item.handover, values, metadata, persons)
    if errors:
        raise ValidationError(errors)
    kept = _keep_files(actor, files)
    with transaction.atomic():
        item.values, item.metadata, item.persons = _json_values(values), metadata, persons
        item.save(update_fields=["values", "metadata", "persons"])
        if kept:
            item.files.all().delete()
            stage_blobs(item, kept)
    return item


def remove_item(*, actor, item: HandoverItem) -> None:
    handover = item.handover
    _own_draft(actor, handover)
    with transaction.atomic():
        item.delete()
        for position, later in enumerate(handover.items.order_by("position"), start=1):
            if later.position != position:
                HandoverItem.objects.filter(pk=later.pk).update(position=position)


def _json_values(values: dict) -> dict:
    kept = {}
    for key in ITEM_FIELDS:
        value = values.get(key)
        if value in (None, ""):
            continue
        kept[key] = value.isoformat() if isinstance(value, datetime.date) else value
    return kept


# --- Sending and the receipt check ---------------------------------------------------------------
def submit(*, actor, handover: HandoverList, declared_items=None, declared_bytes=None):
    """Send a draft: from now on it never changes. The receipt check runs at once and its
    report is kept. ``declared_*``: what a business system says it sent (else counted here)."""
    _own_draft(actor, handover)
    items = list(handover.items.all())
    if not items:
        raise ValidationError(_("Add at least one item before sending."), code="handover_empty")
    with transaction.atomic():
        locked = HandoverList.objects.select_for_update().get(pk=handover.pk)
        if locked.state != HandoverList.State.DRAFT:
            raise ValidationError(_("This list has already been sent."), code="handover_sent")
        total = sum(
            f.blob.size
            for f in ItemFile.objects.filter(item__handover=handover).select_related("blob")
        )
        handover.declared_items = len(items) if declared_items is None else declared_items
        handover.declared_bytes = total if declared_bytes is None else declared_bytes
        handover.state = HandoverList.State.SENT
        handover.sent_at = timezone.now()
        handover.sent_by = actor
        handover.save()
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=handover,
            detail={
                "change": "sent",
                "version": handover.version,
                "items": handover.declared_items,
                "bytes": handover.declared_bytes,
            },
        )
    return run_receipt_check(actor=actor, handover=handover)


def submission_of(handover: HandoverList, *, verify_sm3=False) -> integrity.Submission:
    """The list as the check engine sees it: declared counts, items, staged files."""
    from dangan.content.stores import get_store

    store = get_store()
    rows = selectors.items_with_files(handover)
    files = []

    def describe():
        cache = {}
        return [
            integrity.ItemEntry(
                position=item.position,
                label=item.title,
                metadata_errors=item_errors(
                    handover, item.values, item.metadata, item.persons, schema_cache=cache
                ),
            )
            for item in rows
        ]

    for item in rows:
        for f in item.staged:
            path = store.path(f.blob.key) if hasattr(store, "path") else None
            files.append(
                integrity.FileEntry(
                    name=f"{item.position}/{f.position} {f.filename}",
                    declared_sha256=f.declared_sha256,
                    declared_size=f.declared_size,
                    declared_sm3=f.blob.sm3,
                    open=lambda key=f.blob.key: store.open(key),
                    size=f.blob.size,
                    item=item.position,
                    page=f.position,
                    path=str(path) if path else None,
                )
            )
    return integrity.Submission(
        label=str(handover),
        items=describe,
        files=files,
        declared_items=handover.declared_items,
        declared_bytes=handover.declared_bytes,
        verify_sm3=verify_sm3,
    )


def run_receipt_check(*, actor, handover: HandoverList, verify_sm3=False) -> CheckReport:
    """Run the DA/T 70 hand-over checks over a sent list and keep the report."""
    run = integrity.run_checks(submission_of(handover, verify_sm3=verify_sm3))
    return keep_report(
        actor=actor,
        stage=CheckReport.Stage.HANDOVER,
        subject_type=SUBJECT_TYPE,
        subject_id=handover.pk,
        subject_repr=f"{handover.unit} · {handover}",
        run=run,
    )


# --- The archive's answer ------------------------------------------------------------------------
def answer(*, actor, handover: HandoverList, answers: dict) -> list:
    """Answer every item of a sent list: ``answers`` maps item id → ``(verdict, reason)``.

    Returned items need a reason. Accepted items are filed — records with archival codes,
    persons and pages — in the same transaction as the answers; all or nothing. Returns the
    records filed.
    """
    if not (actor and actor.is_authenticated and actor.may_edit_records):
        raise PermissionDenied(_("Only the archive answers hand-over lists."))
    items = selectors.items_with_files(handover)
    missing = [item.position for item in items if item.pk not in answers]
    if missing:
        raise ValidationError(
            _("Answer every item: no answer for %(items)s.")
            % {"items": ", ".join(map(str, missing))},
            code="answer_missing",
        )
    accepted = [i for i in items if answers[i.pk][0] == ItemDecision.Verdict.ACCEPTED]
    for item in items:
        verdict, reason = answers[item.pk]
        if verdict not in ItemDecision.Verdict.values:
            raise ValidationError(_("Unknown answer."), code="answer_unknown")
        if verdict == ItemDecision.Verdict.RETURNED and not (reason or "").strip():
            raise ValidationError(
                _("Say why item %(n)d is returned.") % {"n": item.position}, code="reason_missing"
            )
    report = latest_report(SUBJECT_TYPE, handover.pk)
    if accepted and (report is None or not report.passed):
        failed = report.failed_ids if report else []
        raise ValidationError(
            _("The receipt check did not pass (%(checks)s): return the items, or check again.")
            % {"checks": ", ".join(failed) or "—"},
            code="check_failed",
        )
    with transaction.atomic():
        locked = HandoverList.objects.select_for_update().get(pk=handover.pk)
        if locked.state != HandoverList.State.SENT:
            raise ValidationError(_("This list has already been answered."), code="answered")
        records = _file_items(actor=actor, handover=handover, items=accepted)
        ItemDecision.objects.bulk_create(
            ItemDecision(
                item=item,
                verdict=answers[item.pk][0],
                reason=(answers[item.pk][1] or "").strip(),
                decided_by=actor,
            )
            for item in items
        )
        handover.state = HandoverList.State.ANSWERED
        handover.answered_at = timezone.now()
        handover.save(update_fields=["state", "answered_at"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=handover,
            detail={
                "change": "answered",
                "handed_over_by": getattr(handover.sent_by, "username", ""),
                "unit": handover.unit.code,
                "accepted_by": actor.username,
                "accepted": [
                    {"item": i.position, "record": r.archival_code}
                    for i, r in zip(accepted, records, strict=True)
                ],
                "returned": [
                    {"item": i.position, "reason": answers[i.pk][1]}
                    for i in items
                    if i not in accepted
                ],
            },
        )
    return records


def _file_items(*, actor, handover, items) -> list:
    if not items:
        return []
    entries = [
        check_person(id_number=p["id_number"], name=p["name"]) for i in items for p in i.persons
    ]
    found = resolve_persons(actor=actor, entries=entries) if entries else {}
    drafts = []
    for item in items:
        draft = item_draft(handover, item.values, item.metadata, item.persons)
        draft.values.setdefault("page_count", len(item.staged) or None)
        draft.persons = [found[id_numbers.normalize(p["id_number"]).number] for p in item.persons]
        drafts.append(draft)
    records = create_records(actor=actor, drafts=drafts)
    events = []
    for item, record in zip(items, records, strict=True):
        files = [(f.filename, f.blob) for f in item.staged]
        if files:
            attach_blobs(actor=actor, record=record, files=files)
        HandoverItem.objects.filter(pk=item.pk).update(record=record)
        item.record = record
        events.append(
            Event(
                action=AuditEvent.Action.IMPORT,
                obj=record,
                detail={
                    "handover": str(handover.uid),
                    "list": handover.pk,
                    "version": handover.version,
                    "item": item.position,
                    "unit": handover.unit.code,
                    "handed_over_by": getattr(handover.sent_by, "username", ""),
                    "accepted_by": actor.username,
                },
            )
        )
    record_events(actor=actor, events=events)
    return records


# --- Correcting returned items -------------------------------------------------------------------
def new_version(*, actor, handover: HandoverList) -> HandoverList:
    """A new draft version of an answered list holding copies of its returned items (their
    files included) for the clerk to correct and send again."""
    if not is_clerk(actor) or actor.unit_id != handover.unit_id:
        raise PermissionDenied(_("Only a clerk of the list's unit may correct it."))
    returned = selectors.items_with_files(
        handover, items=handover.items.filter(decision__verdict=ItemDecision.Verdict.RETURNED)
    )
    if handover.state != HandoverList.State.ANSWERED or not returned:
        raise ValidationError(_("This list has no returned items."), code="nothing_returned")
    if handover.next_versions.exists():
        raise ValidationError(
            _("A corrected version of this list exists already."), code="version_exists"
        )
    with transaction.atomic():
        corrected = HandoverList.objects.create(
            uid=uuid.uuid4(),
            unit=handover.unit,
            fonds=handover.fonds,
            category=handover.category,
            title=handover.title,
            version=handover.version + 1,
            previous=handover,
            created_by=actor,
        )
        for position, item in enumerate(returned, start=1):
            copy = HandoverItem.objects.create(
                handover=corrected,
                position=position,
                values=item.values,
                metadata=item.metadata,
                persons=item.persons,
                corrects=item,
            )
            ItemFile.objects.bulk_create(
                ItemFile(
                    item=copy,
                    position=f.position,
                    filename=f.filename,
                    blob_id=f.blob_id,
                    declared_sha256=f.declared_sha256,
                    declared_size=f.declared_size,
                )
                for f in item.staged
            )
        record_event(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=corrected,
            detail={"change": "new_version", "previous": handover.pk, "items": len(returned)},
        )
    return corrected
