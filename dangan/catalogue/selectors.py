"""Reading the catalogue. Every read of records, by any page, API or export, starts here.

``visible_records`` is the one permission-aware selector: it applies the user's grants (fonds,
category, unit, secrecy level), so a caller that builds on it cannot show a record the user may
not see. Reads of a single record are written to the audit trail: records concern persons.
"""

import hashlib
import re
import unicodedata

from django.core.cache import cache
from django.db import connection
from django.db.models import Q, QuerySet

from dangan.accounts.selectors import record_scope, user_grants
from dangan.alerts.services import out_of_scope
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.core.hooks import Hook
from dangan.people.models import Person
from dangan.security.permissions import has_permission

from .models import Category, Fonds, Record

#: ``(user, text) -> record ids`` whose indexed words match ``text`` (provided by dangan.search).
records_matching_words = Hook("the record ids matching words in the search index")
#: What a record's scanned pages say, for its form and its page: ``{"fields": {field name:
#: [values]}, "messages": [warnings]}`` (answered by assist: ``assist.selectors.page_help``).
record_page_help = Hook("what a record's scanned pages say, field by field")

SORTS = {
    "code": ("archival_code",),
    "-code": ("-archival_code",),
    "year": ("year", "id"),
    "-year": ("-year", "-id"),
    "title": ("title", "id"),
    "new": ("-id",),
}
DEFAULT_SORT = "new"
_DIGITS = re.compile(r"^\d{4,17}[\dX]?$")
#: Up to this many records of the persons a look-up names are given to the query as ids.
LINKED_IDS_MAX = 5000


def visible_records(user) -> QuerySet[Record]:
    """The records ``user`` may read; none without a grant."""
    scope = record_scope(user)
    if scope is None:
        return Record.objects.none()
    return Record.objects.filter(scope)


def visible_fonds(user) -> QuerySet[Fonds]:
    """Fonds in which the user may read at least one record (or all, for a fonds-wide grant)."""
    return Fonds.objects.filter(pk__in=visible_records(user).values("fonds_id").distinct())


def visible_categories(user) -> QuerySet[Category]:
    return Category.objects.filter(
        pk__in=visible_records(user).values("category_id").distinct()
    ).order_by("position", "code")


def browse_records(
    user,
    *,
    fonds=None,
    category=None,
    year=None,
    retention=None,
    openness=None,
    state=None,
    q=None,
    sort=DEFAULT_SORT,
) -> QuerySet[Record]:
    """Visible records filtered the way the list page and the API filter them.

    ``q`` matches an archival code or legacy number (exact or prefix), an ID number (whole, or
    its last digits), a person's name; when none of those matches, words of the records (title
    and the rest of the description, page text) through the search app's index, 简/繁 alike.
    """
    records = visible_records(user)
    if fonds:
        records = records.filter(fonds_id=fonds)
    if category:
        records = records.filter(category_id=category)
    if year:
        records = records.filter(year=year)
    if retention:
        records = records.filter(retention=retention)
    if openness:
        records = records.filter(openness=openness)
    if state:
        records = records.filter(state=state)
    if q:
        hits = records.filter(_lookup(q))
        if not hits.exists():  # words, looked up in the index (a title scan read every record)
            hits = records.filter(pk__in=records_matching_words(user, q))
        records = hits
    return records.select_related("fonds", "category").order_by(
        *SORTS.get(sort, SORTS[DEFAULT_SORT])
    )


def _prefix(field: str, text: str) -> Q:
    """``field`` starts with ``text``, written so that the field's index is used.

    PostgreSQL answers ``LIKE 'x%'`` from the pattern index Django makes; SQLite's LIKE is
    case-insensitive and skips indexes, so there a range on the binary ordering does the work.
    """
    if connection.vendor == "sqlite":
        return Q(**{f"{field}__gte": text, f"{field}__lt": text + "\U0010ffff"})
    return Q(**{f"{field}__startswith": text})


def _lookup(q: str) -> Q:
    """Records whose code, legacy number or person matches ``q``: each branch an indexed look-up."""
    from dangan.people.id_numbers import upgrade_15
    from dangan.people.models import Person, RecordPerson
    from dangan.people.names import fold

    text = unicodedata.normalize("NFKC", q).strip().upper()
    match = _prefix("archival_code", text) | Q(legacy_number=text)
    if _DIGITS.match(text):
        if len(text) >= 15:
            ids = {text, upgrade_15(text)} if len(text) == 15 else {text}
            persons = Person.objects.filter(Q(id_number__in=ids) | Q(id_number_15=text))
        else:  # the last digits of an ID number, as a visitor reads them off a card
            persons = Person.objects.filter(_prefix("id_reversed", text[::-1]))
    else:
        persons = Person.objects.filter(name_folded=fold(q))
    linked = RecordPerson.objects.filter(person__in=persons.values("pk")).values_list(
        "record_id", flat=True
    )
    # The records of those persons are read first, as a list of ids: OR-ed in as a subquery,
    # PostgreSQL walked every record testing each (ten million records: seconds a look-up); as
    # ids beside the code and number, each branch is an index look-up. A name on very many
    # records keeps the subquery.
    ids = list(linked[: LINKED_IDS_MAX + 1])
    return match | Q(pk__in=linked if len(ids) > LINKED_IDS_MAX else ids)


def persons_by_record(records) -> dict[int, list[dict]]:
    """record id → the persons each of ``records`` (already read through ``visible_records``)
    concerns, as ``{"pk", "name", "id_number"}`` in the persons' order: one query for a page of
    a list, without a model instance and a related manager per record and person."""
    from dangan.people.models import RecordPerson

    found = {record.pk: [] for record in records}
    links = (
        RecordPerson.objects.filter(record_id__in=found)
        .order_by("person__name", "person__id_number")
        .values_list("record_id", "person_id", "person__name", "person__id_number")
    )
    for record_id, pk, name, id_number in links:
        found[record_id].append({"pk": pk, "name": name, "id_number": id_number})
    return found


def read_record(user, pk) -> Record:
    """One record for ``user`` to look at, its reading audited; ``Record.DoesNotExist`` if not
    visible (callers answer 404: whether it exists is not for them to learn)."""
    try:
        record = (
            visible_records(user)
            .select_related("fonds", "category", "unit", "volume")
            .prefetch_related("persons")
            .get(pk=pk)
        )
    except Record.DoesNotExist:
        if user.is_authenticated and Record.objects.filter(pk=pk).exists():
            out_of_scope(user=user, object_type="catalogue.record", pk=pk)
        raise
    record_event(actor=user, action=AuditEvent.Action.READ, obj=record)
    return record


def record_for_edit(user, pk) -> Record:
    """A record the user may see, for a form to change (the service checks the write right)."""
    return visible_records(user).select_related("fonds", "category").get(pk=pk)


def may_browse_records(user) -> bool:
    """The catalogue's pages (list, search) are for those who read records: not the three
    administrators, not citizens (they have the portal)."""
    return has_permission(user, "records.read")


def granted_categories(user) -> QuerySet[Category]:
    """The categories the user's grants reach, for a page's category tree and selects.

    Read from the grants, not the records, so it stays cheap with millions of records; but a
    grant on every category of one unit (a town clerk's) would list every category of the
    archive for the one or two the unit ever handed over, so those are read from the unit's
    records (a unit's records are few beside the archive's).
    """
    if record_scope(user) is None:
        return Category.objects.none()
    grants = list(user_grants(user))
    ids = {grant.category_id for grant in grants}
    if None not in ids:
        return Category.objects.filter(pk__in=ids)
    if any(grant.category_id is None and grant.unit_id is None for grant in grants):
        return Category.objects.all()
    return Category.objects.filter(
        Q(pk__in=ids - {None}) | Q(pk__in=visible_records(user).values("category_id"))
    )


def granted_fonds(user) -> QuerySet[Fonds]:
    """The fonds the user's grants reach (see ``granted_categories``)."""
    if record_scope(user) is None:
        return Fonds.objects.none()
    ids = {grant.fonds_id for grant in user_grants(user)}
    return Fonds.objects.all() if None in ids else Fonds.objects.filter(pk__in=ids)


def record_history(user, record: Record) -> QuerySet[AuditEvent]:
    """The audit trail of one record (creation, changes, exports; not every reading), newest
    first, for those who may change records; empty for everyone else."""
    if not getattr(user, "may_edit_records", False):
        return AuditEvent.objects.none()
    return (
        AuditEvent.objects.filter(object_type=Record._meta.label_lower, object_id=str(record.pk))
        .exclude(action=AuditEvent.Action.READ)
        .order_by("-id")
    )


# --- Persons (一人一档): a person is visible through the records the user may see --------------
def visible_persons(user) -> QuerySet[Person]:
    return Person.objects.filter(
        pk__in=visible_records(user).filter(persons__isnull=False).values("persons")
    )


#: Up to this many matches are counted at each request; above it, the count of all is kept a
#: few minutes (a COUNT over a million records costs more than the list's page itself).
COUNT_AT_ONCE = 1000
COUNT_SECONDS = 300


def count_records(user, records: QuerySet[Record], selection: dict) -> int:
    """How many records ``records`` (``browse_records(user, **selection)``) holds. A long list
    is counted once and its count kept ``COUNT_SECONDS`` for the same reader, filters, rights
    and newest record (a record added since is counted anew)."""
    records = records.order_by()
    count = records[: COUNT_AT_ONCE + 1].count()
    if count <= COUNT_AT_ONCE:
        return count
    newest = Record.objects.order_by("-pk").values_list("pk", flat=True).first()
    grants = sorted(
        (g.pk, g.max_secrecy, g.fonds_id, g.category_id, g.unit_id) for g in user_grants(user)
    )
    key = (
        "record-count:"
        + hashlib.sha256(
            repr((user.pk, sorted(selection.items()), newest, grants)).encode()
        ).hexdigest()
    )
    return cache.get_or_set(key, records.count, COUNT_SECONDS)


def persons_opened_lately(user, limit: int = 10) -> list[Person]:
    """The persons whose file ``user`` opened last (from their own audit trail), most recent
    first, among those they may still see: where the people page starts before a search."""
    opened = (
        AuditEvent.objects.filter(
            actor=user, action=AuditEvent.Action.READ, object_type=Person._meta.label_lower
        )
        .order_by("-pk")
        .values_list("object_id", flat=True)[: limit * 5]
    )
    order = list(dict.fromkeys(int(pk) for pk in opened if pk.isdigit()))[: limit * 2]
    found = visible_persons(user).in_bulk(order)
    return [found[pk] for pk in order if pk in found][:limit]


def person_file(user, pk) -> tuple[Person, QuerySet]:
    """A person and every record of every category concerning them that ``user`` may see.

    ``Person.DoesNotExist`` when the user sees none of their records. The read is audited.
    """
    try:
        person = visible_persons(user).get(pk=pk)
    except Person.DoesNotExist:
        if user.is_authenticated and Person.objects.filter(pk=pk).exists():
            out_of_scope(user=user, object_type="people.person", pk=pk)
        raise
    records = (
        visible_records(user)
        .filter(persons=person)
        .select_related("fonds", "category")
        .order_by("category__position", "year", "id")
    )
    record_event(actor=user, action=AuditEvent.Action.READ, obj=person, object_repr=str(person))
    return person, records
