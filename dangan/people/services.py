"""Writing persons: one row per national ID number, whatever form the number arrived in."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dangan.audit.models import AuditEvent
from dangan.audit.services import Event, record_events
from dangan.core import bulk_insert

from . import id_numbers
from .models import Person
from .names import fold, same_name


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
    found = {p.id_number: p for p in Person.objects.filter(id_number__in=list(wanted))}
    for number, (_checked, name) in wanted.items():
        if number in found and not same_name(found[number].name, name):
            raise ValidationError(
                _("The ID number %(id)s is on file for another name.")
                % {"id": id_numbers.mask(number)},
                code="id_name_conflict",
            )
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
                events=[
                    Event(
                        action=create,
                        obj=p,
                        after={"id_number": id_numbers.mask(p.id_number), "name": p.name},
                    )
                    for p in new
                ],
            )
        found.update({p.id_number: p for p in new})  # saved, with their keys
    return found
