"""What the ledger keeps of who a record is about: a person's digest and a record's links digest.

A person's digest covers the four things that identify them — national ID number, name, sex,
date of birth — joined by U+001F; a record's links digest covers, for each of its persons in
order, the link's place and role and that person's four things, so that a person renamed, a
number changed, or a record re-linked to someone else no longer matches what the ledger holds.

The texts are plain joined columns (not JSON) so that ``dangan verify`` can have the database
build them and hash a million persons in a few seconds. They must never change for a value
already digested, or old digests stop matching.
"""

import hashlib

#: Between the columns of one person or link.
UNIT = "\x1f"
#: Between the links of one record.
RECORD = "\x1e"


def person_line(id_number: str, name: str, sex: str, birth_date) -> str:
    """The text a person's digest covers; ``birth_date`` a date or its ISO text."""
    birth = birth_date.isoformat() if hasattr(birth_date, "isoformat") else str(birth_date)
    return UNIT.join((id_number, name, sex, birth))


def digest_of_line(line: str) -> str:
    return "sha256:" + hashlib.sha256(line.encode()).hexdigest()


def person_digest(person) -> str:
    """``sha256:<hex>`` of a person's ID number, name, sex and date of birth."""
    return digest_of_line(person_line(person.id_number, person.name, person.sex, person.birth_date))


def link_line(position: int, role: str, id_number, name, sex, birth_date) -> str:
    return UNIT.join((str(position), role, person_line(id_number, name, sex, birth_date)))


def links_digest(links) -> str:
    """The hex SHA-256 of a record's links, each ``(position, role, id_number, name, sex,
    birth_date)``, in their order (position, then as given)."""
    text = RECORD.join(link_line(*link) for link in links)
    return hashlib.sha256(text.encode()).hexdigest()


#: The columns of ``RecordPerson`` rows that ``link_ids_of_rows`` reads, in its order.
LINK_COLUMNS = (
    "record_id",
    "position",
    "role",
    "person__id_number",
    "person__name",
    "person__sex",
    "person__birth_date",
    "person_id",
)


def link_ids_of_rows(rows) -> tuple[dict, dict]:
    """From rows of ``LINK_COLUMNS`` in record order: ``{record_id: [(position, role,
    id_number, name, sex, birth_date), …]}`` (what the digest covers) and ``{record_id:
    [[person_id, role], …]}`` (what a ledger entry's details name)."""
    links: dict = {}
    ids: dict = {}
    for record_id, position, role, number, name, sex, birth, person_id in rows:
        links.setdefault(record_id, []).append((position, role, number, name, sex, birth))
        ids.setdefault(record_id, []).append([person_id, role])
    return links, ids


def links_of(record_ids) -> tuple[dict, dict]:
    """``link_ids_of_rows`` of the records ``record_ids``, read from the database; records
    without persons are left out of both."""
    from .models import RecordPerson

    rows = (
        RecordPerson.objects.filter(record_id__in=list(record_ids))
        .order_by("record_id", "position", "id")
        .values_list(*LINK_COLUMNS)
    )
    return link_ids_of_rows(rows)
