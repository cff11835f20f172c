"""Writing the oversight of units: surveys and answers, the checklist, inspections and their
findings, keepers and their training, and the custody hand-over that moves a keeper's rights.

Every write checks who acts (``selectors.may_steer`` for the county's acts, the clerk's own unit
for an answer) and appends to the audit trail in its transaction.
"""

import datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.accounts.models import NO_RECORD_ROLES, Grant, Role, Unit
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event

from . import selectors
from .models import (
    ChecklistItem,
    CustodyHandover,
    CustodyItem,
    CustodySignature,
    Finding,
    FindingPhoto,
    Inspection,
    InspectionScore,
    Keeper,
    Qualification,
    Survey,
    SurveyAnswer,
    UnitRoom,
)

#: Photos of findings: the formats a phone or camera gives.
PHOTO_MIMES = {"image/jpeg", "image/png", "image/tiff", "image/jp2"}
#: A larger photo is refused (a whole request is capped by DANGAN_MAX_UPLOAD_BYTES).
PHOTO_MAX_BYTES = 25 * 1024 * 1024
ANSWER_FIELDS = [
    "kinds",
    "files_at_unit",
    "metres_at_unit",
    "files_moved",
    "year_from",
    "year_to",
    "protections",
    "digitised_percent",
    "remarks",
]


def _require_steer(actor) -> None:
    if not selectors.may_steer(actor):
        raise PermissionDenied(_("Only the county archives does this."))


def _audit(actor, action, obj, **kwargs):
    return record_event(actor=actor, action=action, obj=obj, **kwargs)


# --- Holdings survey ----------------------------------------------------------------------


def open_survey(*, actor, year: int, title: str = "", due_on=None, instructions="") -> Survey:
    """The county opens the survey of ``year``; every business unit and town may then answer."""
    _require_steer(actor)
    if Survey.objects.filter(year=year).exists():
        raise ValidationError(
            _("The survey of %(year)d is already open.") % {"year": year}, code="exists"
        )
    with transaction.atomic():
        survey = Survey.objects.create(
            year=year,
            title=title or _("Holdings survey %(year)d") % {"year": year},
            due_on=due_on,
            instructions=instructions,
            opened_by=actor,
        )
        _audit(actor, AuditEvent.Action.CREATE, survey, after={"year": year})
    return survey


def close_survey(*, actor, survey: Survey) -> Survey:
    _require_steer(actor)
    with transaction.atomic():
        survey.closed_at = timezone.now()
        survey.save(update_fields=["closed_at"])
        _audit(actor, AuditEvent.Action.UPDATE, survey, after={"closed": True})
    return survey


def answer_survey(*, actor, survey: Survey, unit: Unit, **values) -> SurveyAnswer:
    """A unit's clerk answers (or corrects the answer) for their own unit, while it is open."""
    if not selectors.is_unit_clerk(actor) or actor.unit_id != unit.pk:
        raise PermissionDenied(_("Only the unit's own clerk answers for it."))
    if unit.kind not in selectors.OVERSEEN_KINDS:
        raise ValidationError(_("This unit is not surveyed."), code="not_surveyed")
    if not survey.is_open:
        raise ValidationError(_("The survey is closed."), code="closed")
    unknown = set(values) - set(ANSWER_FIELDS)
    if unknown:
        raise ValidationError(
            _("These are not answer fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))},
            code="fields",
        )
    year_from, year_to = values.get("year_from"), values.get("year_to")
    if year_from and year_to and year_from > year_to:
        raise ValidationError(_("The earliest year is after the latest."), code="years")
    with transaction.atomic():
        answer = SurveyAnswer.objects.select_for_update().filter(survey=survey, unit=unit).first()
        created = answer is None
        answer = answer or SurveyAnswer(survey=survey, unit=unit)
        before = None if created else {f: getattr(answer, f) for f in values}
        for field, value in values.items():
            setattr(answer, field, value)
        answer.answered_by = actor
        answer.full_clean()
        answer.save()
        _audit(
            actor,
            AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
            answer,
            before=before,
            after=values,
        )
    return answer


# --- Checklist ----------------------------------------------------------------------------


def save_checklist_item(*, actor, item: ChecklistItem | None = None, **values) -> ChecklistItem:
    """Add a line to the checklist or change one (title, guidance, weight, fact, order, in use)."""
    _require_steer(actor)
    with transaction.atomic():
        created = item is None
        item = item or ChecklistItem()
        before = None if created else {k: getattr(item, k) for k in values}
        for field, value in values.items():
            setattr(item, field, value)
        item.full_clean()
        item.save()
        _audit(
            actor,
            AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
            item,
            before=before,
            after=values,
        )
    return item


# --- Inspections --------------------------------------------------------------------------


def start_inspection(
    *, actor, unit: Unit, year: int, inspected_on: datetime.date | None = None, inspectors=""
) -> Inspection:
    """Begin the inspection of ``unit`` for ``year``: the facts are read from the data and kept,
    and every active checklist item gets its line, full points where the data show it in order,
    none where they show it is not (the inspector changes them)."""
    _require_steer(actor)
    if unit.kind not in selectors.OVERSEEN_KINDS:
        raise ValidationError(_("This unit is not inspected."), code="not_inspected")
    if Inspection.objects.filter(unit=unit, year=year).exists():
        raise ValidationError(
            _("%(unit)s is already inspected for %(year)d.") % {"unit": unit, "year": year},
            code="exists",
        )
    facts = selectors.inspection_facts(unit, year)
    with transaction.atomic():
        inspection = Inspection.objects.create(
            unit=unit,
            year=year,
            inspected_on=inspected_on or timezone.localdate(),
            inspectors=inspectors or actor.get_full_name() or actor.username,
            facts=facts,
            created_by=actor,
        )
        for position, item in enumerate(ChecklistItem.objects.filter(active=True)):
            good = selectors.fact_is_good(item.fact, facts)
            InspectionScore.objects.create(
                inspection=inspection,
                item=item,
                title=item.title,
                weight=item.weight,
                fact=item.fact,
                points=Decimal(0) if good is False else Decimal(item.weight),
                position=position,
            )
        _total(inspection)
        _audit(
            actor,
            AuditEvent.Action.CREATE,
            inspection,
            after={"unit": unit.code, "year": year, "facts": facts},
        )
    return inspection


def _total(inspection: Inspection) -> None:
    scores = list(inspection.scores.all())
    inspection.score = sum((s.points for s in scores), Decimal(0))
    inspection.max_score = sum((Decimal(s.weight) for s in scores), Decimal(0))
    inspection.save(update_fields=["score", "max_score"])


def _open_inspection(actor, inspection: Inspection) -> None:
    _require_steer(actor)
    if inspection.state != Inspection.State.OPEN:
        raise ValidationError(_("The inspection is concluded."), code="concluded")


def score_inspection(*, actor, inspection: Inspection, scores: dict, summary=None) -> Inspection:
    """Set the points (and notes) of the inspection's lines: ``{score id: (points, note)}``."""
    _open_inspection(actor, inspection)
    with transaction.atomic():
        changed = {}
        lines = {s.pk: s for s in inspection.scores.select_for_update()}
        for pk, (points, note) in scores.items():
            line = lines.get(int(pk))
            if line is None:
                continue
            try:
                points = Decimal(str(points)).quantize(Decimal("0.1"))
            except (InvalidOperation, ValueError):
                raise ValidationError(_("Points must be a number."), code="points") from None
            if points < 0 or points > line.weight:
                raise ValidationError(
                    _("%(item)s: points between 0 and %(weight)d.")
                    % {"item": line.title, "weight": line.weight},
                    code="points",
                )
            if points != line.points or note != line.note:
                changed[line.title] = [str(line.points), str(points)]
                line.points, line.note = points, note
                line.save(update_fields=["points", "note"])
        if summary is not None:
            inspection.summary = summary
            inspection.save(update_fields=["summary"])
        _total(inspection)
        _audit(
            actor,
            AuditEvent.Action.UPDATE,
            inspection,
            after={"points": changed, "score": str(inspection.score)},
        )
    return inspection


def refresh_facts(*, actor, inspection: Inspection) -> Inspection:
    """Read the facts again (the unit may have sent its lists since); the points stay as the
    inspector set them."""
    _open_inspection(actor, inspection)
    facts = selectors.inspection_facts(inspection.unit, inspection.year)
    with transaction.atomic():
        before, inspection.facts = inspection.facts, facts
        inspection.save(update_fields=["facts"])
        _audit(
            actor,
            AuditEvent.Action.UPDATE,
            inspection,
            before={"facts": before},
            after={"facts": facts},
        )
    return inspection


def conclude_inspection(*, actor, inspection: Inspection) -> Inspection:
    """The inspection is over: its score stands; its findings are followed up until closed."""
    _open_inspection(actor, inspection)
    with transaction.atomic():
        inspection.state = Inspection.State.DONE
        inspection.save(update_fields=["state"])
        _audit(actor, AuditEvent.Action.UPDATE, inspection, after={"state": "done"})
    return inspection


def add_finding(*, actor, inspection: Inspection, text: str, due_on, photos=()) -> Finding:
    """Note a shortcoming with the date it is to be fixed by, and its photos (``(name, file)``)."""
    _require_steer(actor)
    text = (text or "").strip()
    if not text:
        raise ValidationError(_("Describe the finding."), code="empty")
    with transaction.atomic():
        finding = Finding.objects.create(inspection=inspection, text=text, due_on=due_on)
        names = [_keep_photo(actor, finding, name, stream) for name, stream in photos]
        _audit(
            actor,
            AuditEvent.Action.CREATE,
            finding,
            after={"inspection": inspection.pk, "due_on": due_on, "photos": names},
        )
    return finding


def add_photos(*, actor, finding: Finding, photos) -> list[str]:
    _require_steer(actor)
    with transaction.atomic():
        names = [_keep_photo(actor, finding, name, stream) for name, stream in photos]
        _audit(actor, AuditEvent.Action.UPDATE, finding, after={"photos": names})
    return names


def _keep_photo(actor, finding: Finding, name: str, stream) -> str:
    from dangan.content.services import keep_file, sanitize_filename

    size = getattr(stream, "size", None)
    if size is not None and size > PHOTO_MAX_BYTES:
        raise ValidationError(
            _("A photo may be %(mb)d MB at most.") % {"mb": PHOTO_MAX_BYTES // (1024 * 1024)},
            code="too_large",
        )
    if not _looks_like_photo(stream):  # checked before storing, so nothing is left behind
        raise ValidationError(
            _("%(name)s is not a photo (JPEG, PNG, TIFF).") % {"name": name}, code="not_photo"
        )
    blob = keep_file(name=name, stream=stream, actor=actor)
    if blob.mime not in PHOTO_MIMES:
        raise ValidationError(
            _("%(name)s is not a photo (JPEG, PNG, TIFF).") % {"name": name}, code="not_photo"
        )
    filename = sanitize_filename(name)
    FindingPhoto.objects.create(finding=finding, blob=blob, filename=filename)
    return filename


def _looks_like_photo(stream) -> bool:
    """Whether Pillow reads the header as a photo format; the stream is rewound either way."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(stream) as image:
            return image.format in {"JPEG", "PNG", "TIFF", "JPEG2000", "MPO"}
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return False
    finally:
        stream.seek(0)


def close_finding(*, actor, finding: Finding, resolution: str) -> Finding:
    """The county saw the fix: the finding is closed, saying how it was put right."""
    _require_steer(actor)
    resolution = (resolution or "").strip()
    if not resolution:
        raise ValidationError(_("Say how it was fixed."), code="empty")
    if finding.closed_at:
        raise ValidationError(_("The finding is already closed."), code="closed")
    with transaction.atomic():
        finding.closed_at = timezone.now()
        finding.closed_by = actor
        finding.resolution = resolution
        finding.save(update_fields=["closed_at", "closed_by", "resolution"])
        _audit(actor, AuditEvent.Action.UPDATE, finding, after={"closed": True})
    return finding


# --- Keepers and rooms ----------------------------------------------------------------------


def name_keeper(*, actor, unit: Unit, name: str, since, user=None, **values) -> Keeper:
    """Record that ``unit`` named ``name`` to keep its files."""
    _require_steer(actor)
    if user is not None and user.unit_id != unit.pk:
        raise ValidationError(_("The account belongs to another unit."), code="unit")
    with transaction.atomic():
        keeper = Keeper(unit=unit, name=name, since=since, user=user, **values)
        keeper.full_clean()
        keeper.save()
        _audit(actor, AuditEvent.Action.CREATE, keeper, after={"unit": unit.code, "name": name})
    return keeper


def keeper_leaves(*, actor, keeper: Keeper, on) -> Keeper:
    _require_steer(actor)
    with transaction.atomic():
        keeper.until = on
        keeper.save(update_fields=["until"])
        _audit(actor, AuditEvent.Action.UPDATE, keeper, after={"until": on})
    return keeper


def add_qualification(*, actor, keeper: Keeper, kind, title, on, **values) -> Qualification:
    _require_steer(actor)
    with transaction.atomic():
        row = Qualification(keeper=keeper, kind=kind, title=title, on=on, **values)
        row.full_clean()
        row.save()
        _audit(actor, AuditEvent.Action.CREATE, row, after={"keeper": keeper.pk, "kind": kind})
    return row


def assign_room(*, actor, unit: Unit, room) -> UnitRoom:
    """Count ``room``'s alerts in ``unit``'s inspections."""
    _require_steer(actor)
    with transaction.atomic():
        row, _created = UnitRoom.objects.get_or_create(unit=unit, room=room)
        _audit(actor, AuditEvent.Action.CREATE, row, after={"unit": unit.code, "room": room.code})
    return row


# --- Custody hand-over (交接) ----------------------------------------------------------------


def start_custody_handover(*, actor, unit: Unit, outgoing, incoming, witness) -> CustodyHandover:
    """Draw up the hand-over list of ``outgoing``'s custody for ``unit`` from the data."""
    _require_steer(actor)
    people = [outgoing, incoming, witness]
    if len({p.pk for p in people}) < 3:
        raise ValidationError(
            _("The outgoing keeper, the incoming keeper and the witness are three people."),
            code="same_person",
        )
    if not all(p.is_active for p in people):
        raise ValidationError(_("Every party needs an active account."), code="inactive")
    if incoming.role in NO_RECORD_ROLES:
        raise ValidationError(
            _("The incoming keeper's role holds no rights to records."), code="role"
        )
    if witness.role == Role.CITIZEN:
        raise ValidationError(_("The witness is one of the staff."), code="role")
    if incoming.unit_id != unit.pk:
        raise ValidationError(_("The incoming keeper's account belongs to another unit."), "unit")
    if CustodyHandover.objects.filter(
        unit=unit, outgoing=outgoing, state=CustodyHandover.State.OPEN
    ).exists():
        raise ValidationError(_("A hand-over of this keeper is already open."), code="open")
    contents = selectors.custody_contents(unit=unit, outgoing=outgoing)
    with transaction.atomic():
        handover = CustodyHandover.objects.create(
            unit=unit, outgoing=outgoing, incoming=incoming, witness=witness, created_by=actor
        )
        CustodyItem.objects.bulk_create(
            CustodyItem(handover=handover, position=n, **item) for n, item in enumerate(contents)
        )
        _audit(
            actor,
            AuditEvent.Action.CREATE,
            handover,
            after={
                "unit": unit.code,
                "outgoing": outgoing.username,
                "incoming": incoming.username,
                "witness": witness.username,
                "items": len(contents),
            },
        )
    return handover


def add_custody_item(*, actor, handover: CustodyHandover, description: str, quantity=1, kind="key"):
    """Add a line the data do not know (keys, seals, a cupboard) before anyone signs."""
    if not (selectors.may_steer(actor) or handover.outgoing_id == actor.pk):
        raise PermissionDenied(_("Only the county or the outgoing keeper adds lines."))
    if handover.state != CustodyHandover.State.OPEN or handover.signatures.exists():
        raise ValidationError(_("Once signed, the list no longer changes."), code="frozen")
    description = (description or "").strip()
    if not description:
        raise ValidationError(_("Describe the item."), code="empty")
    with transaction.atomic():
        position = handover.items.count()
        item = CustodyItem.objects.create(
            handover=handover,
            kind=kind,
            description=description[:300],
            quantity=quantity,
            position=position,
        )
        _audit(
            actor, AuditEvent.Action.UPDATE, handover, after={"item": description, "qty": quantity}
        )
    return item


def _confirm_identity(user, *, password: str = "", code: str = "") -> str:
    """The signer proves it is them again: their password, or a code from their app. A wrong
    answer counts towards the lock-out, like a wrong log-in."""
    from dangan.accounts.lockout import is_locked, record_failure
    from dangan.accounts.services import verify_second_factor

    if is_locked(user.username):
        raise PermissionDenied(_("This account is locked."))
    if code and verify_second_factor(user=user, code=code.strip()):
        return "2fa"
    if password and user.check_password(password):
        return "password"
    record_failure(username=user.username)
    raise ValidationError(_("The password or code is not right."), code="identity")


def sign_custody_handover(
    *, actor, handover: CustodyHandover, checked: list[int], password="", code="", remarks=""
) -> CustodyHandover:
    """``actor`` signs as the party they are, having checked every line (``checked`` are the ids
    of the lines ticked). The last of the three signatures moves the outgoing keeper's grants to
    the incoming keeper and closes the outgoing keeper's term, in this same transaction."""
    party = selectors.party_of(handover, actor)
    if party is None or not actor.is_active:
        raise PermissionDenied(_("Only the three parties sign."))
    if handover.state != CustodyHandover.State.OPEN:
        raise ValidationError(_("The hand-over is already signed."), code="signed")
    if handover.signatures.filter(party=party).exists():
        raise ValidationError(_("You have signed already."), code="signed")
    lines = set(handover.items.values_list("pk", flat=True))
    unchecked = lines - {int(pk) for pk in checked}
    if unchecked:
        raise ValidationError(
            _("Check every line before signing (%(n)d not checked).") % {"n": len(unchecked)},
            code="unchecked",
        )
    method = _confirm_identity(actor, password=password, code=code)
    with transaction.atomic():
        handover = CustodyHandover.objects.select_for_update().get(pk=handover.pk)
        if handover.state != CustodyHandover.State.OPEN:
            raise ValidationError(_("The hand-over is already signed."), code="signed")
        CustodySignature.objects.create(
            handover=handover,
            party=party,
            user=actor,
            method=method,
            checked_items=sorted(lines),
            remarks=remarks,
        )
        _audit(actor, AuditEvent.Action.UPDATE, handover, after={"signed_as": party})
        if handover.signatures.count() == len(CustodySignature.Party):
            _move_custody(actor, handover)
    return handover


def _move_custody(actor, handover: CustodyHandover) -> None:
    """Move the grants named on the list from the outgoing to the incoming keeper."""
    ids = [int(i.ref.partition(":")[2]) for i in handover.items.filter(ref__startswith="grant:")]
    grants = Grant.objects.select_for_update().filter(pk__in=ids, user=handover.outgoing)
    moved = [
        {
            "id": g.pk,
            "fonds": g.fonds_id,
            "category": g.category_id,
            "unit": g.unit_id,
            "max_secrecy": g.max_secrecy,
        }
        for g in grants
    ]
    grants.update(user=handover.incoming)
    today = timezone.localdate()
    Keeper.objects.filter(unit=handover.unit, user=handover.outgoing, until__isnull=True).update(
        until=today
    )
    if not selectors.active_keepers().filter(unit=handover.unit, user=handover.incoming).exists():
        previous = Keeper.objects.filter(unit=handover.unit, user=handover.outgoing).first()
        Keeper.objects.create(
            unit=handover.unit,
            user=handover.incoming,
            name=handover.incoming.get_full_name() or handover.incoming.username,
            employment=previous.employment if previous else Keeper.Employment.PART,
            since=today,
        )
    handover.state = CustodyHandover.State.SIGNED
    handover.signed_at = timezone.now()
    handover.moved_grants = moved
    handover.save(update_fields=["state", "signed_at", "moved_grants"])
    for user, before, after in (
        (handover.outgoing, moved, []),
        (handover.incoming, [], moved),
    ):
        _audit(
            actor,
            AuditEvent.Action.UPDATE,
            user,
            object_type=get_user_model()._meta.label_lower,
            before={"grants_moved": before},
            after={"grants_moved": after, "custody_handover": handover.pk},
        )
