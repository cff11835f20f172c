"""归档接口: business systems that file by themselves, and the pre-archive queue (预归档).

The services, in the order a filing lives them:

* ``add_sender`` / ``rotate_key`` / ``set_active`` — the system administrator registers a
  business system (name, unit) and gives it a key, shown once; only its SHA-256 is kept;
* ``post_filing`` — the system posts a record (description, files, 办理过程) with its key,
  known by its own id: the same id with the same content answers the same filing, with other
  content it is refused (``FilingConflict``); bad metadata or a refused file stores nothing.
  The filing waits in the queue and the four-property checks (DA/T 70, filing stage) run on it;
* ``accept`` — the archivist files it as a record through the catalogue and content services
  (archival code, ledger, audit), its files as pages and its 办理过程 as a PDF/A sheet after
  them; ``return_filing`` — or sends it back with a reason, which the system reads back;
* ``reconcile`` / ``keep_reconciliation`` — per system and day: what it sent, what was
  accepted, returned, and what was still waiting at the day's end (the worker keeps
  yesterday's once a day).
"""

import datetime
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from dangan.audit.models import AuditEvent
from dangan.audit.services import Event, record_event, record_events
from dangan.catalogue.models import Record
from dangan.catalogue.services import CORE_FIELDS, check_draft, create_records
from dangan.content.services import attach_blobs, audit_refusals, keep_bytes, stage_files
from dangan.core.canonical import dumps as canonical_dumps
from dangan.integrity import checks as integrity
from dangan.integrity.models import CheckReport
from dangan.integrity.selectors import latest_report, latest_verdicts
from dangan.integrity.services import keep_report
from dangan.integrity.stages import relabel
from dangan.people import id_numbers
from dangan.people.services import check_person, resolve_persons
from dangan.security.permissions import has_permission

from .handover import ITEM_FIELDS, item_draft
from .models import Filing, FilingFile, Sender, SenderDay
from .services import find_category, find_fonds

SUBJECT_TYPE = "intake.filing"
KEY_START = "dgk_"
PROCESS_SHEET = "办理过程.pdf"


class FilingConflict(ValidationError):
    """The sender's id was used before for other content."""


def may_register_senders(user) -> bool:
    """The system administrator's: which business systems may file, and their keys."""
    return has_permission(user, "intake.senders")


def may_receive_filings(user) -> bool:
    """The archivist's: the pre-archive queue, its answers and the daily reconciliation."""
    return has_permission(user, "intake.receive")


def may_see_reconciliation(user) -> bool:
    return may_receive_filings(user) or may_register_senders(user)


# --- Registering a sending system ---------------------------------------------------------------
def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _new_key() -> tuple[str, str]:
    """``(key, prefix)``: ``dgk_<8 hex>_<43 random>``; the prefix finds the row, the rest is
    checked against its digest."""
    prefix = secrets.token_hex(4)
    return f"{KEY_START}{prefix}_{secrets.token_urlsafe(32)}", prefix


def _check_admin(actor) -> None:
    # actor None: an operator's command on the server (``dangan senders``).
    if actor is not None and not may_register_senders(actor):
        raise PermissionDenied(_("Only the system administrator registers sending systems."))


def add_sender(*, actor, name: str, unit) -> tuple[Sender, str]:
    """Register a business system; returns it and its key (shown once, never kept)."""
    _check_admin(actor)
    name = " ".join((name or "").split())
    if not name:
        raise ValidationError({"name": _("Give the system a name.")}, code="required")
    if unit is None:
        raise ValidationError({"unit": _("Choose the unit the system files for.")})
    if Sender.objects.filter(name=name).exists():
        raise ValidationError(
            {"name": _("A sending system named “%(name)s” exists already.") % {"name": name}},
        )
    key, prefix = _new_key()
    with transaction.atomic():
        sender = Sender.objects.create(
            name=name,
            unit=unit,
            key_prefix=prefix,
            key_hash=_hash(key),
            created_by=actor if getattr(actor, "pk", None) else None,
        )
        record_event(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=sender,
            detail={"change": "sender_added", "unit": unit.code, "key_begins": prefix},
        )
    return sender, key


def rotate_key(*, actor, sender: Sender) -> str:
    """A new key for ``sender``; the old one stops working at once. Returns the new key."""
    _check_admin(actor)
    key, prefix = _new_key()
    with transaction.atomic():
        old = sender.key_prefix
        sender.key_prefix, sender.key_hash = prefix, _hash(key)
        sender.key_changed_at = timezone.now()
        sender.save(update_fields=["key_prefix", "key_hash", "key_changed_at"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=sender,
            detail={"change": "key_rotated", "key_was": old, "key_begins": prefix},
        )
    return key


def set_active(*, actor, sender: Sender, active: bool) -> Sender:
    """Disable a sending system (its key is refused) or enable it again."""
    _check_admin(actor)
    with transaction.atomic():
        sender.active = active
        sender.save(update_fields=["active"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=sender,
            detail={"change": "sender_enabled" if active else "sender_disabled"},
        )
    return sender


def sender_for_key(key: str) -> Sender | None:
    """The sending system whose key this is (active or not), or None."""
    if not key.startswith(KEY_START):
        return None
    prefix = key[len(KEY_START) :].partition("_")[0]
    sender = Sender.objects.select_related("unit").filter(key_prefix=prefix).first()
    if sender is None or not hmac.compare_digest(sender.key_hash, _hash(key)):
        return None
    return sender


def find_sender(value: str) -> Sender:
    """A sending system by its name or its id (the operator's commands)."""
    text = (value or "").strip()
    sender = Sender.objects.filter(name=text).first()
    if sender is None and text.isdigit():
        sender = Sender.objects.filter(pk=int(text)).first()
    if sender is None:
        raise ValidationError(
            _("There is no sending system “%(name)s”.") % {"name": text}, code="sender_unknown"
        )
    return sender


# --- Posting a filing ---------------------------------------------------------------------------
@dataclass
class Description:
    """A posted record's description, checked: what the filing keeps."""

    fonds: object
    category: object
    values: dict
    metadata: dict
    persons: list
    process: list


def _digest(record: dict, process: list, files, declared) -> str:
    """``sha256:`` of the record's and the 办理过程's JSON (canonical) and each file's name,
    declared digest and bytes, in order: what makes a second post "the same content"."""
    digest = hashlib.sha256(canonical_dumps({"record": record, "process": process}).encode())
    for n, (name, stream) in enumerate(files):
        sent = declared[n] if n < len(declared) else ""
        digest.update(b"\x00" + name.encode() + b"\x00" + sent.encode() + b"\x00")
        if hasattr(stream, "chunks"):
            for chunk in stream.chunks():
                digest.update(chunk)
        else:
            digest.update(stream.read())
        stream.seek(0)
    return "sha256:" + digest.hexdigest()


def _clean_process(process) -> tuple[list, dict]:
    """The 办理过程's steps, each ``{"step", "who", "when", "what"}`` (``when`` an ISO date or
    time), and the errors by place."""
    errors: dict = {}
    steps = []
    if not isinstance(process, list):
        return [], {"process": [_("The 办理过程 must be a list of steps.")]}
    for n, step in enumerate(process):
        if not isinstance(step, dict):
            errors[f"process/{n}"] = [_("A step must be an object with who, when and what.")]
            continue
        clean = {}
        for name in ("who", "what"):
            value = " ".join(str(step.get(name) or "").split())
            if not value:
                errors[f"process/{n}/{name}"] = [_("This field is required.")]
            clean[name] = value[:500]
        when = str(step.get("when") or "").strip()
        moment = parse_datetime(when) if "T" in when or " " in when else None
        day = None if moment else parse_date(when) if len(when) == 10 else None
        if moment is None and day is None:
            errors[f"process/{n}/when"] = [
                _("Give the time as an ISO date or date and time (2026-12-07T09:30:00+08:00).")
            ]
        clean["when"] = when
        clean["step"] = " ".join(str(step.get("step") or "").split())[:100] or str(n + 1)
        steps.append(clean)
    return steps, errors


def describe(sender: Sender, record, process) -> Description:
    """Check a posted record (``record``: fonds, category, the record fields, ``metadata``,
    ``persons``) and its 办理过程 against the category's schema, as the record would be filed.
    Raises ``ValidationError`` keyed by places (``record/metadata/custody_date``,
    ``process/0/who``) naming every bad field."""
    if not isinstance(record, dict):
        raise ValidationError({"record": [_("The record must be a JSON object.")]})
    errors: dict = {}
    fonds = category = None
    try:
        fonds = find_fonds(str(record.get("fonds") or "") or None)
    except ValidationError as error:
        errors["record/fonds"] = error.messages
    try:
        category = find_category(str(record.get("category") or ""))
    except ValidationError as error:
        errors["record/category"] = error.messages
    known = set(ITEM_FIELDS) | {"fonds", "category", "metadata", "persons"}
    for name in sorted(set(record) - known):
        errors[f"record/{name}"] = [_("Unknown field.")]
    values = {k: v for k, v in record.items() if k in ITEM_FIELDS}
    metadata = record.get("metadata") or {}
    if not isinstance(metadata, dict):
        errors["record/metadata"] = [_("The category's fields must be a JSON object.")]
        metadata = {}
    persons = record.get("persons") or []
    if not isinstance(persons, list) or not all(isinstance(p, dict) for p in persons):
        errors["record/persons"] = [_("The persons must be a list of objects.")]
        persons = []
    persons = [
        {"id_number": str(p.get("id_number") or "").strip(), "name": str(p.get("name") or "")}
        for p in persons
    ]
    for n, person in enumerate(persons):
        try:
            check_person(id_number=person["id_number"], name=person["name"])
        except ValidationError as error:
            errors[f"record/persons/{n}/id_number"] = error.messages
    steps, process_errors = _clean_process(process)
    errors.update(process_errors)
    # 责任者 (DA/T 18): the unit the system files for, unless the record names another.
    values.setdefault("responsible", sender.unit.name)
    if fonds is not None and category is not None:
        draft = item_draft(_Target(fonds, category, sender.unit), values, metadata, persons)
        try:
            check_draft(draft)
        except ValidationError as error:
            metadata_names = {f.key for f in category.fields.all()}
            by_field = error.error_dict if hasattr(error, "error_dict") else {"": error.error_list}
            for name, problems in by_field.items():
                if name in metadata_names:
                    place = f"record/metadata/{name}"
                elif name in CORE_FIELDS:
                    place = f"record/{name}"
                else:
                    place = "record"
                errors.setdefault(place, []).extend(problems)
    if errors:
        raise ValidationError(
            {
                place: [p if isinstance(p, ValidationError) else ValidationError(p) for p in found]
                for place, found in errors.items()
            }
        )
    return Description(fonds, category, values, dict(metadata), persons, steps)


@dataclass
class _Target:
    """What ``handover.item_draft`` reads of a list: where the record goes."""

    fonds: object
    category: object
    unit: object


def post_filing(*, sender: Sender, external_id: str, record, process, files, declared=()):
    """Keep what ``sender`` posted in the pre-archive queue; ``(filing, created)``.

    ``files``: ``(name, stream)`` in order; ``declared``: the SHA-256 the sender computed for
    each (optional), checked by the four-property checks. Raises ``PermissionDenied`` for a
    disabled sender, ``FilingConflict`` for an id used before with other content and
    ``ValidationError`` for bad input; nothing is kept then."""
    if not sender.active:
        raise PermissionDenied(_("This sending system is disabled."))
    external_id = (external_id or "").strip()
    declared = [str(d or "").strip().lower() for d in declared]
    digest = _digest(record, process, files, declared)
    earlier = Filing.objects.filter(sender=sender, external_id=external_id).first()
    if earlier is not None:
        return _again(earlier, digest), False
    described = describe(sender, record, process)
    if len(declared) > len(files):
        raise ValidationError({"sha256": [_("More digests than files.")]})
    try:
        with transaction.atomic():
            kept = stage_files(actor=None, files=files)
            filing = Filing.objects.create(
                sender=sender,
                external_id=external_id,
                digest=digest,
                fonds=described.fonds,
                category=described.category,
                values=_json_values(described.values),
                metadata=described.metadata,
                persons=described.persons,
                process=described.process,
            )
            FilingFile.objects.bulk_create(
                FilingFile(
                    filing=filing,
                    position=n,
                    filename=name,
                    blob=blob,
                    declared_sha256=declared[n - 1] if n <= len(declared) else "",
                )
                for n, (name, blob) in enumerate(kept, start=1)
            )
            record_event(
                actor=None,
                action=AuditEvent.Action.CREATE,
                obj=filing,
                detail={
                    "change": "filing_received",
                    "sender": sender.name,
                    "sender_id": external_id,
                    "files": [{"name": n, "sha256": b.sha256} for n, b in kept],
                    "digest": digest,
                },
            )
    except IntegrityError:  # the same id posted at the same moment by a second request
        earlier = Filing.objects.filter(sender=sender, external_id=external_id).first()
        if earlier is None:
            raise
        return _again(earlier, digest), False
    except ValidationError as error:
        audit_refusals(None, error)  # the refusal's security event, rolled back with the rest
        raise
    run_check(actor=None, filing=filing)
    return filing, True


def _json_values(values: dict) -> dict:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in values.items()}


def _again(earlier: Filing, digest: str) -> Filing:
    if earlier.digest != digest:
        raise FilingConflict(
            _("The id %(id)s was filed before with other content.") % {"id": earlier.external_id},
            code="filing_conflict",
        )
    return earlier


# --- The four-property checks -------------------------------------------------------------------
def submission_of(filing: Filing, *, verify_sm3=False) -> integrity.Submission:
    """The filing as the check engine sees it: one item, its staged files."""
    from dangan.content.stores import get_store

    store = get_store()
    staged = list(filing.files.select_related("blob").order_by("position"))

    def items():
        errors = []
        try:
            describe(filing.sender, _as_posted(filing), filing.process)
        except ValidationError as error:
            errors = [f"{k}: {m}" for k, ms in error.message_dict.items() for m in ms]
        return [integrity.ItemEntry(position=1, label=filing.title, metadata_errors=errors)]

    files = []
    for f in staged:
        path = store.path(f.blob.key) if hasattr(store, "path") else None
        files.append(
            integrity.FileEntry(
                name=f"1/{f.position} {f.filename}",
                declared_sha256=f.declared_sha256 or f.blob.sha256,
                declared_size=f.blob.size,
                declared_sm3=f.blob.sm3,
                open=lambda key=f.blob.key: store.open(key),
                size=f.blob.size,
                item=1,
                page=f.position,
                path=str(path) if path else None,
                format_name=f.blob.format_name,
            )
        )
    return integrity.Submission(
        label=str(filing),
        items=items,
        files=files,
        declared_items=1,
        declared_bytes=sum(f.blob.size for f in staged),
        verify_sm3=verify_sm3,
    )


def _as_posted(filing: Filing) -> dict:
    return {
        "fonds": filing.fonds.code,
        "category": filing.category.code,
        **filing.values,
        "metadata": filing.metadata,
        "persons": filing.persons,
    }


def run_check(*, actor, filing: Filing) -> CheckReport:
    """Run the DA/T 70 filing-stage checks over a filing and keep the report."""
    run = relabel(integrity.run_checks(submission_of(filing)), CheckReport.Stage.FILING)
    return keep_report(
        actor=actor,
        stage=CheckReport.Stage.FILING,
        subject_type=SUBJECT_TYPE,
        subject_id=filing.pk,
        subject_repr=str(filing),
        run=run,
    )


def latest_check(filing: Filing) -> CheckReport | None:
    return latest_report(SUBJECT_TYPE, filing.pk)


def check_verdicts(filings) -> dict[str, bool]:
    """Filing id (as text) → whether its newest check passed; one query for a whole queue."""
    return latest_verdicts(SUBJECT_TYPE, [f.pk for f in filings])


# --- The archivist's answer ---------------------------------------------------------------------
def _check_receiver(actor) -> None:
    if not (may_receive_filings(actor) and actor.may_edit_records):
        raise PermissionDenied(_("Only the archive answers filings."))


def _lock_waiting(filing: Filing) -> Filing:
    locked = Filing.objects.select_for_update().get(pk=filing.pk)
    if locked.state != Filing.State.WAITING:
        raise ValidationError(_("This filing has already been answered."), code="answered")
    return locked


PROCESS_STYLESHEET = Path(__file__).with_name("process_sheet.css")


def process_sheet(filing: Filing) -> bytes:
    """The 办理过程 as a PDF/A-2b sheet (CJK font embedded), kept after the record's files."""
    from dangan.pdf import render_pdf

    html = render_to_string("intake/process_sheet.html", {"filing": filing})
    return render_pdf(html, stylesheets=[PROCESS_STYLESHEET], pdfa=True)


def accept(*, actor, filing: Filing) -> Record:
    """File a waiting filing as a record (archival code, persons, pages, its 办理过程 sheet) in
    one transaction, with the ledger and the audit trail. The latest check must have passed."""
    _check_receiver(actor)
    report = latest_check(filing)
    if report is None or not report.passed:
        failed = report.failed_ids if report else []
        raise ValidationError(
            _("The checks did not pass (%(checks)s): return the filing, or check again.")
            % {"checks": ", ".join(failed) or "—"},
            code="check_failed",
        )
    sheet = process_sheet(filing) if filing.process else None
    with transaction.atomic():
        filing = _lock_waiting(filing)
        persons = filing.persons
        found = (
            resolve_persons(
                actor=actor,
                entries=[check_person(id_number=p["id_number"], name=p["name"]) for p in persons],
            )
            if persons
            else {}
        )
        draft = item_draft(
            _Target(filing.fonds, filing.category, filing.sender.unit),
            filing.values,
            filing.metadata,
            persons,
        )
        files = [(f.filename, f.blob) for f in filing.files.select_related("blob")]
        draft.values.setdefault("page_count", len(files) or None)
        draft.persons = [found[id_numbers.normalize(p["id_number"]).number] for p in persons]
        record = create_records(actor=actor, drafts=[draft])[0]
        if sheet is not None:
            files.append((PROCESS_SHEET, keep_bytes(name=PROCESS_SHEET, data=sheet)))
        if files:
            attach_blobs(actor=actor, record=record, files=files)
        filing.state = Filing.State.ACCEPTED
        filing.record = record
        filing.decided_at = timezone.now()
        filing.decided_by = actor
        filing.save(update_fields=["state", "record", "decided_at", "decided_by"])
        detail = {
            "sender": filing.sender.name,
            "sender_id": filing.external_id,
            "unit": filing.sender.unit.code,
            "accepted_by": actor.username,
        }
        record_events(
            actor=actor,
            events=[
                Event(
                    action=AuditEvent.Action.UPDATE,
                    obj=filing,
                    detail={"change": "filing_accepted", "record": record.archival_code},
                ),
                Event(
                    action=AuditEvent.Action.IMPORT,
                    obj=record,
                    detail={**detail, "filing": filing.pk, "process": filing.process},
                ),
            ],
        )
    return record


def return_filing(*, actor, filing: Filing, reason: str) -> Filing:
    """Send a waiting filing back with ``reason``, which the sender reads through the API."""
    _check_receiver(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the filing is returned.")})
    with transaction.atomic():
        filing = _lock_waiting(filing)
        filing.state = Filing.State.RETURNED
        filing.reason = reason
        filing.decided_at = timezone.now()
        filing.decided_by = actor
        filing.save(update_fields=["state", "reason", "decided_at", "decided_by"])
        record_event(
            actor=actor,
            action=AuditEvent.Action.UPDATE,
            obj=filing,
            detail={"change": "filing_returned", "reason": reason},
        )
    return filing


# --- The daily reconciliation -------------------------------------------------------------------
def _bounds(day: datetime.date) -> tuple:
    start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
    return start, start + datetime.timedelta(days=1)


def reconcile(day: datetime.date) -> list[dict]:
    """For each sending system: ``sent`` on ``day``, ``accepted`` and ``returned`` on ``day``,
    and ``waiting`` at its end (received by then, not answered by then)."""
    start, end = _bounds(day)
    decided_today = Q(filings__decided_at__gte=start, filings__decided_at__lt=end)
    rows = (
        Sender.objects.select_related("unit")
        .annotate(
            sent=Count(
                "filings",
                filter=Q(filings__received_at__gte=start, filings__received_at__lt=end),
            ),
            accepted=Count(
                "filings", filter=decided_today & Q(filings__state=Filing.State.ACCEPTED)
            ),
            returned=Count(
                "filings", filter=decided_today & Q(filings__state=Filing.State.RETURNED)
            ),
            waiting=Count(
                "filings",
                filter=Q(filings__received_at__lt=end)
                & (Q(filings__decided_at__isnull=True) | Q(filings__decided_at__gte=end)),
            ),
        )
        .order_by("name")
    )
    return [
        {
            "sender": s.name,
            "sender_pk": s.pk,
            "unit": s.unit.code,
            "unit_name": s.unit.name,
            "active": s.active,
            "day": day.isoformat(),
            "sent": s.sent,
            "accepted": s.accepted,
            "returned": s.returned,
            "waiting": s.waiting,
        }
        for s in rows
    ]


def keep_reconciliation(*, day: datetime.date) -> list[dict]:
    """Keep ``day``'s reconciliation (``SenderDay``, one row per system; again: replaced)."""
    rows = reconcile(day)
    with transaction.atomic():
        for row in rows:
            SenderDay.objects.update_or_create(
                sender_id=row["sender_pk"],
                day=day,
                defaults={k: row[k] for k in ("sent", "accepted", "returned", "waiting")},
            )
    return rows


def keep_yesterday() -> list[dict]:
    """The worker's daily sweep: keep yesterday's reconciliation."""
    return keep_reconciliation(day=timezone.localdate() - datetime.timedelta(days=1))
