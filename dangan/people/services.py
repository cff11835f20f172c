"""Writing persons and links: one row per national ID number, whatever form the number arrived
in; every change of a person or of who a record is about audited (who, why) and announced to the
ledger (``signals.persons_changed``) in the same transaction.

| service | does |
|---|---|
| ``resolve_persons`` | the persons of checked (ID, name) pairs, created when new |
| ``set_links`` | which persons a record is about, in order (the form, the API, hand-over) |
| ``correct_person`` | a name or ID number put right (a typo, the 15→18 upgrade), with why |
| ``merge_persons`` / ``undo_merge`` | two rows found to be one person, and back |
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.audit.models import AuditEvent
from dangan.audit.services import Event, record_events
from dangan.core import bulk_insert

from . import id_numbers
from .models import Person, PersonMerge, RecordPerson
from .names import fold, same_name
from .signals import persons_changed

#: The kinds of change announced (the ledger's ``person.*`` kinds).
ADDED, CHANGED = "person.added", "person.changed"
MERGED, UNMERGED = "person.merged", "person.unmerged"
RECORD_TYPE = "catalogue.record"


def person_state(person: Person) -> dict:
    """What the audit trail keeps of a person: the ID number masked, never whole."""
    return {
        "id_number": id_numbers.mask(person.id_number),
        "name": person.name,
        "sex": person.sex,
        "birth_date": person.birth_date.isoformat()
        if hasattr(person.birth_date, "isoformat")
        else str(person.birth_date),
    }


def _announce(*, actor, changes, record_ids=(), reason=""):
    persons_changed.send(
        sender=Person,
        actor=actor,
        changes=changes,
        record_ids=sorted(set(record_ids)),
        reason=reason,
    )


def _need_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(_("Give the reason for this change."), code="reason_missing")
    return reason


def _may_change(actor) -> None:
    if actor is not None and not getattr(actor, "may_edit_records", False):
        raise PermissionDenied(_("You may not change persons."))


def check_person(*, id_number, name, sex=None, birth_date=None) -> tuple[id_numbers.IdNumber, str]:
    """Validate what a source says of a person against what the ID number itself says.

    ``birth_date`` is a ``PartialDate`` (or None) and ``sex`` "M"/"F" (or None); a mismatch is a
    ``ValidationError`` with code ``sex_mismatch`` or ``birth_date_mismatch``.
    """
    checked = id_numbers.normalize(id_number)
    name = (name or "").strip()
    if not name:
        raise ValidationError(_("The name is missing."), code="name_missing")
    if sex and sex != checked.sex:
        raise ValidationError(_("The sex does not agree with the ID number."), code="sex_mismatch")
    if birth_date is not None and not birth_date.agrees_with(checked.birth_date):
        raise ValidationError(
            _("The date of birth does not agree with the ID number."), code="birth_date_mismatch"
        )
    return checked, name


def resolve_persons(*, actor, entries: list[tuple[id_numbers.IdNumber, str]]) -> dict[str, Person]:
    """The persons for checked (ID, name) pairs, created when new; keyed by 18-digit number.

    A number already on file under a different name (simplified and traditional forms count as
    the same name) is a ``ValidationError`` with code ``id_name_conflict``: one of the two is wrong.
    """
    wanted = {}
    for checked, name in entries:
        wanted.setdefault(checked.number, (checked, name))
    found = {
        p.id_number: p
        for p in Person.objects.filter(id_number__in=list(wanted)).select_related("merged_into")
    }
    for number, (_checked, name) in wanted.items():
        if number in found and not same_name(found[number].name, name):
            raise ValidationError(
                _("The ID number %(id)s is on file for another name.")
                % {"id": id_numbers.mask(number)},
                code="id_name_conflict",
            )
    # A row merged into another (the same person under a wrong number) stands for that one.
    found = {number: p.merged_into or p for number, p in found.items()}
    new = [
        Person(
            id_number=c.number,
            id_number_15=c.old_number or c.number_15,
            name=n,
            name_folded=fold(n),
            id_reversed=c.number[::-1],
            sex=c.sex,
            birth_date=c.birth_date,
        )
        for number, (c, n) in wanted.items()
        if number not in found
    ]
    if new:
        with transaction.atomic():
            bulk_insert.insert(Person, new)
            create = AuditEvent.Action.CREATE
            record_events(
                actor=actor,
                events=[Event(action=create, obj=p, after=person_state(p)) for p in new],
            )
            _announce(actor=actor, changes=[(ADDED, p, {}) for p in new])
        found.update({p.id_number: p for p in new})  # saved, with their keys
    return found


def set_links(*, actor, record, persons: list[Person], reason: str = "", role=None) -> bool:
    """Make ``persons`` (in this order, each once) the persons ``record`` is about; whether
    anything changed. Audited on the record (persons before and after, the reason); the ledger
    gets the record's new digest. ``role``: of new links (default: the subject of the file)."""
    role = role or RecordPerson.Role.SUBJECT
    wanted = list(dict.fromkeys(p.pk for p in persons))
    with transaction.atomic():
        current = list(
            RecordPerson.objects.select_for_update()
            .filter(record=record)
            .order_by("position", "id")
            .values_list("id", "person_id", "role", "position")
        )
        before = [pid for _id, pid, _role, _pos in current]
        if before == wanted and [pos for *_x, pos in current] == list(range(len(current))):
            return False
        by_person = {pid: (link_id, link_role) for link_id, pid, link_role, _pos in current}
        RecordPerson.objects.filter(record=record).exclude(person_id__in=wanted).delete()
        for position, person_id in enumerate(wanted):
            if person_id in by_person:
                RecordPerson.objects.filter(pk=by_person[person_id][0]).update(position=position)
            else:
                RecordPerson.objects.create(
                    record=record, person_id=person_id, role=role, position=position
                )
        record_events(
            actor=actor,
            events=[
                Event(
                    action=AuditEvent.Action.UPDATE,
                    obj=record,
                    before={"persons": before},
                    after={"persons": wanted},
                    detail={"reason": reason} if reason else None,
                )
            ],
        )
        _announce(actor=actor, changes=[], record_ids=[record.pk], reason=reason)
    return True


def _record_ids(person: Person) -> list[int]:
    return list(person.record_links.values_list("record_id", flat=True))


def _record_events(actor, record_ids, before, after, reason):
    """The same change noted on each record it touches: the record's history shows it."""
    return [
        Event(
            action=AuditEvent.Action.UPDATE,
            object_type=RECORD_TYPE,
            object_id=str(record_id),
            before=before,
            after=after,
            detail={"reason": reason},
        )
        for record_id in record_ids
    ]


def correct_person(*, actor, person: Person, reason: str, name=None, id_number=None) -> Person:
    """Put a person's name or ID number right, with the reason (a typo on the register, the old
    15-digit number upgraded to 18 digits). Sex and date of birth follow the new number; the
    15-digit form is kept. Audited on the person and on each record about them; the ledger gets
    the person's new digest and each record's. A number already on file for another row is
    refused (``id_on_file``): those two are one person, to be merged."""
    _may_change(actor)
    reason = _need_reason(reason)
    with transaction.atomic():
        person = Person.objects.select_for_update().get(pk=person.pk)
        before = person_state(person)
        if name is not None:
            name = name.strip()
            if not name:
                raise ValidationError(_("The name is missing."), code="name_missing")
            person.name, person.name_folded = name, fold(name)
        if id_number is not None:
            checked = id_numbers.normalize(id_number)
            if (
                checked.number != person.id_number
                and Person.objects.filter(id_number=checked.number).exists()
            ):
                raise ValidationError(
                    _("The ID number %(id)s is on file for another person: merge the two.")
                    % {"id": id_numbers.mask(checked.number)},
                    code="id_on_file",
                )
            person.id_number = checked.number
            person.id_number_15 = checked.old_number or person.id_number_15 or checked.number_15
            person.id_reversed = checked.number[::-1]
            person.sex, person.birth_date = checked.sex, checked.birth_date
        after = person_state(person)
        if after == before and (id_number is None or person.id_number == before["id_number"]):
            return person
        person.save()
        changed = sorted(k for k in after if after[k] != before[k]) or ["id_number"]
        records = _record_ids(person)
        diff_before = {k: before[k] for k in changed}
        diff_after = {k: after[k] for k in changed}
        record_events(
            actor=actor,
            events=[
                Event(
                    action=AuditEvent.Action.UPDATE,
                    obj=person,
                    before=diff_before,
                    after=diff_after,
                    detail={"reason": reason},
                ),
                *_record_events(
                    actor,
                    records,
                    {"person": person.pk, **diff_before},
                    {"person": person.pk, **diff_after},
                    reason,
                ),
            ],
        )
        _announce(
            actor=actor,
            changes=[(CHANGED, person, {"fields": changed})],
            record_ids=records,
            reason=reason,
        )
    return person


def merge_persons(*, actor, kept: Person, merged: Person, reason: str) -> PersonMerge:
    """``merged`` is the same person as ``kept``: its links move to ``kept`` and it is marked
    merged (kept, not deleted, so that ``undo_merge`` can put everything back). The two rows
    carry two different ID numbers, so the approver's reason is required."""
    _may_change(actor)
    reason = _need_reason(reason)
    if kept.pk == merged.pk:
        raise ValidationError(_("A person cannot be merged into itself."), code="merge_self")
    with transaction.atomic():
        both = Person.objects.select_for_update().filter(pk__in=[kept.pk, merged.pk])
        rows = {p.pk: p for p in both}
        kept, merged = rows[kept.pk], rows[merged.pk]
        if kept.merged_into_id or merged.merged_into_id:
            raise ValidationError(
                _("One of the two was merged already; undo that merge first."),
                code="merged_already",
            )
        kept_records = set(_record_ids(kept))
        moved = []
        for link in RecordPerson.objects.filter(person=merged).order_by("id"):
            moved.append(
                {
                    "record": link.record_id,
                    "role": link.role,
                    "position": link.position,
                    "dropped": link.record_id in kept_records,  # kept is on it already
                }
            )
            if link.record_id in kept_records:
                link.delete()
            else:
                link.person = kept
                link.save(update_fields=["person"])
        merged.merged_into = kept
        merged.save(update_fields=["merged_into", "updated_at"])
        merge = PersonMerge.objects.create(
            kept=kept,
            merged=merged,
            links=moved,
            reason=reason,
            merged_by=getattr(actor, "username", "") or "system",
        )
        records = [m["record"] for m in moved]
        note = {"merged": merged.pk, "kept": kept.pk, "merge": merge.pk}
        record_events(
            actor=actor,
            events=[
                Event(
                    action=AuditEvent.Action.UPDATE,
                    obj=merged,
                    before={"merged_into": None},
                    after={"merged_into": kept.pk, "kept": person_state(kept)},
                    detail={"reason": reason, "merge": merge.pk},
                ),
                *_record_events(actor, records, {"person": merged.pk}, {"person": kept.pk}, reason),
            ],
        )
        _announce(
            actor=actor,
            changes=[(MERGED, merged, note), (MERGED, kept, note)],
            record_ids=records,
            reason=reason,
        )
    return merge


def undo_merge(*, actor, merge: PersonMerge, reason: str) -> PersonMerge:
    """Put a merge back: the links that moved return to the merged row, which is a person of
    its own again. Audited and in the ledger, as the merge was."""
    _may_change(actor)
    reason = _need_reason(reason)
    with transaction.atomic():
        merge = PersonMerge.objects.select_for_update().get(pk=merge.pk)
        if merge.undone_at is not None:
            raise ValidationError(_("This merge was undone already."), code="undone_already")
        kept, merged = merge.kept, merge.merged
        for moved in merge.links:
            if moved["dropped"]:
                RecordPerson.objects.create(
                    record_id=moved["record"],
                    person=merged,
                    role=moved["role"],
                    position=moved["position"],
                )
            else:
                RecordPerson.objects.filter(record_id=moved["record"], person=kept).update(
                    person=merged
                )
        merged.merged_into = None
        merged.save(update_fields=["merged_into", "updated_at"])
        merge.undone_at = timezone.now()
        merge.undone_by = getattr(actor, "username", "") or "system"
        merge.undo_reason = reason
        merge.save(update_fields=["undone_at", "undone_by", "undo_reason"])
        records = [m["record"] for m in merge.links]
        note = {"merged": merged.pk, "kept": kept.pk, "merge": merge.pk}
        record_events(
            actor=actor,
            events=[
                Event(
                    action=AuditEvent.Action.UPDATE,
                    obj=merged,
                    before={"merged_into": kept.pk},
                    after={"merged_into": None},
                    detail={"reason": reason, "undo_merge": merge.pk},
                ),
                *_record_events(actor, records, {"person": kept.pk}, {"person": merged.pk}, reason),
            ],
        )
        _announce(
            actor=actor,
            changes=[(UNMERGED, merged, note), (UNMERGED, kept, note)],
            record_ids=records,
            reason=reason,
        )
    return merge
