"""What citizens and the public may read. The one place that decides it.

``citizen_records(user)`` is the citizen's counterpart of ``catalogue.selectors.visible_records``:
the records concerning the person whose ID number the account is bound to (and only after the
binding was verified), never above the secrecy level the portal may show
(``DANGAN_PORTAL_MAX_SECRECY``). Citizens hold no grants and ``visible_records`` gives them
nothing (``NO_RECORD_ROLES``); this selector does not widen that, it is a separate, narrower
door. ``open_records()`` is the open catalogue (开放, filed, 公开) anyone may search.

Pages never get a ``Record``: they get an ``Entry`` holding only the fields a citizen or the
public may see, names and ID numbers that are not the viewer's own already masked.
"""

import math
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q, QuerySet

from dangan.accounts.models import Role, Secrecy
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.models import Openness, Record
from dangan.people.models import RecordPerson
from dangan.search.analyzer import FACETS, Term, all_of, facet_term, fold, parse_query
from dangan.search.backends import get_backend

from .masking import mask_name, mask_text
from .models import CitizenProfile

PAGE_SIZE = 20
#: How many matches the index hands over for the public search to check and show.
CANDIDATES = 1000


@dataclass
class Entry:
    """One catalogue entry as a citizen or the public sees it (DA/T 18 elements, no notes)."""

    pk: int
    title: str
    category: str
    year: int
    archival_code: str
    openness: str
    fonds: str = ""
    persons: list = field(default_factory=list)  # names as shown: own in full, others masked


@dataclass
class PublicResults:
    query: str
    entries: list = field(default_factory=list)
    total: int = 0
    capped: bool = False
    page: int = 1
    pages: int = 0

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def has_previous(self):
        return self.page > 1


def citizen_profile(user) -> CitizenProfile | None:
    """The portal profile of a citizen account; None for anyone else."""
    if not (user and user.is_authenticated and user.is_active and user.role == Role.CITIZEN):
        return None
    return CitizenProfile.objects.filter(user=user).first()


def bound_id_number(user) -> str | None:
    """The verified ID number ``user`` is bound to, or None (not a citizen, not yet bound)."""
    profile = citizen_profile(user)
    return profile.id_number if profile is not None and profile.id_number else None


def citizen_records(user) -> QuerySet[Record]:
    """The filed records concerning the person bound to ``user``, up to the portal's secrecy
    level; none for an unbound account or anyone who is not a citizen."""
    number = bound_id_number(user)
    if number is None:
        return Record.objects.none()
    linked = RecordPerson.objects.filter(person__id_number=number).values("record_id")
    return Record.objects.filter(
        pk__in=linked,
        state=Record.State.FILED,
        secrecy__lte=settings.DANGAN_PORTAL_MAX_SECRECY,
    )


def open_records() -> QuerySet[Record]:
    """The open catalogue: filed, 开放 and 公开. Anyone may find these."""
    return Record.objects.filter(
        openness=Openness.OPEN, state=Record.State.FILED, secrecy=Secrecy.PUBLIC
    )


def requestable_by_citizen(user) -> Q:
    """The records a citizen may ask a copy of (``access.selectors.requestable_records``):
    their own (``citizen_records``) and the open catalogue (``open_records``)."""
    return Q(pk__in=open_records().values("pk")) | Q(pk__in=citizen_records(user).values("pk"))


def _persons_of(record_ids) -> dict[int, list[tuple[str, str]]]:
    """(name, ID number) of the persons of each record."""
    persons = {}
    links = RecordPerson.objects.filter(record_id__in=list(record_ids)).order_by("role", "id")
    for record_id, name, number in links.values_list(
        "record_id", "person__name", "person__id_number"
    ):
        persons.setdefault(record_id, []).append((name, number))
    return persons


def _entry(record: Record, persons, *, own_number: str | None = None) -> Entry:
    others = [name for name, number in persons if number != own_number]
    return Entry(
        pk=record.pk,
        title=mask_text(record.title, others),
        category=record.category.name,
        year=record.year,
        archival_code=record.archival_code or "",
        openness=str(Openness(record.openness).label),
        fonds=record.fonds.name,
        persons=[name if number == own_number else mask_name(name) for name, number in persons],
    )


def my_records(user) -> list[Entry]:
    """The citizen's own records as entries, newest year first; the reading is audited."""
    number = bound_id_number(user)
    records = list(
        citizen_records(user)
        .select_related("fonds", "category")
        .order_by("-year", "category__position", "id")
    )
    persons = _persons_of(r.pk for r in records)
    entries = [_entry(r, persons.get(r.pk, []), own_number=number) for r in records]
    record_event(
        actor=user,
        action=AuditEvent.Action.READ,
        object_type=Record._meta.label_lower,
        object_repr="portal: my records",
        detail={"portal": "my-records", "records": [e.pk for e in entries]},
    )
    return entries


def my_record(user, pk) -> Entry:
    """One of the citizen's own records; ``Record.DoesNotExist`` for any other (answer 404).
    The reading is audited."""
    record = citizen_records(user).select_related("fonds", "category").get(pk=pk)
    entry = _entry(
        record, _persons_of([record.pk]).get(record.pk, []), own_number=bound_id_number(user)
    )
    record_event(
        actor=user,
        action=AuditEvent.Action.READ,
        obj=record,
        object_repr=f"{entry.archival_code} {entry.title}",
        detail={"portal": "my-record"},
    )
    return entry


def entry_for(user, record: Record) -> Entry:
    """A record the citizen already may see (her own, or an open one), as an entry; not audited
    (for lists of requests whose records were audited when requested)."""
    own = bound_id_number(user)
    return _entry(record, _persons_of([record.pk]).get(record.pk, []), own_number=own)


def public_search(query: str, *, category=None, page: int = 1) -> PublicResults:
    """Search the open catalogue (开放 records only), 简/繁 alike, for anyone.

    The index narrows to open, public records; every candidate is then checked against
    ``open_records()`` and must contain the query in what the public is shown (title with the
    names masked, code, year, category, responsible party). So a person's name or ID number
    finds nothing, and no count, page or timing depends on a record that is not open.
    """
    results = PublicResults(query=query, page=max(1, page))
    parsed = parse_query(query)
    if parsed is None:
        return results
    filters = [
        Term(facet_term(FACETS["openness"], Openness.OPEN)),
        Term(facet_term(FACETS["secrecy"], f"le{Secrecy.PUBLIC}")),
    ]
    if category:
        filters.append(Term(facet_term(FACETS["category"], category)))
    candidates = get_backend().search(parsed.node, within=all_of(filters), limit=CANDIDATES)
    scores = dict(candidates)
    records = open_records().filter(pk__in=list(scores)).select_related("fonds", "category")
    if category:
        records = records.filter(category_id=category)
    records = list(records)
    persons = _persons_of(r.pk for r in records)
    matched = []
    for record in records:
        entry = _entry(record, persons.get(record.pk, []))
        shown = fold(
            " ".join(
                [
                    entry.title,
                    entry.archival_code,
                    str(entry.year),
                    entry.category,
                    record.responsible,
                ]
            )
        )
        if all(needle in shown for needle in parsed.needles):
            matched.append((scores[record.pk], record.pk, entry))
    matched.sort(key=lambda m: (-m[0], -m[1]))
    results.total = len(matched)
    results.capped = len(matched) >= CANDIDATES
    results.pages = math.ceil(len(matched) / PAGE_SIZE)
    start = (results.page - 1) * PAGE_SIZE
    results.entries = [m[2] for m in matched[start : start + PAGE_SIZE]]
    return results
