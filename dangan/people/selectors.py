"""Reading persons. A person is visible to a user through the records the user may see."""

from django.db.models import QuerySet

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.selectors import visible_records

from .models import Person


def visible_persons(user) -> QuerySet[Person]:
    return Person.objects.filter(
        pk__in=visible_records(user).filter(persons__isnull=False).values("persons")
    )


def person_file(user, pk) -> tuple[Person, QuerySet]:
    """A person and every record of every category concerning them that ``user`` may see.

    ``Person.DoesNotExist`` when the user sees none of their records. The read is audited.
    """
    person = visible_persons(user).get(pk=pk)
    records = (
        visible_records(user)
        .filter(persons=person)
        .select_related("fonds", "category")
        .order_by("category__position", "year", "id")
    )
    record_event(actor=user, action=AuditEvent.Action.READ, obj=person, object_repr=str(person))
    return person, records


def persons_by_id_number(numbers) -> dict[str, Person]:
    """Persons on file for 18-digit ``numbers``, keyed by number: for checks before a write.

    Not permission-filtered and not audited: a write (a register import) must know whether a
    number is already on file under another name, whoever's records carry it.
    """
    return {p.id_number: p for p in Person.objects.filter(id_number__in=list(numbers))}
