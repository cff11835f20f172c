"""Reading persons for a write, without a reader's grants.

What a reader may see of persons (a person is visible through the records the reader may see:
``visible_persons``, ``person_file``) is read in ``dangan.catalogue.selectors``, above."""

from .models import Person


def persons_by_id_number(numbers) -> dict[str, Person]:
    """Persons on file for 18-digit ``numbers``, keyed by number: for checks before a write.

    Not permission-filtered and not audited: a write (a register import) must know whether a
    number is already on file under another name, whoever's records carry it.
    """
    return {p.id_number: p for p in Person.objects.filter(id_number__in=list(numbers))}
