"""Reading the catalogue. Every read of records, by any page, API or export, starts here.

``visible_records`` is the one permission-aware selector: it applies the user's grants (fonds,
category, unit, secrecy level), so a caller that builds on it cannot show a record the user may
not see. Reads of a single record are written to the audit trail: records concern persons.
"""

import re
import unicodedata

from django.db.models import Q, QuerySet

from dangan.accounts.selectors import record_scope
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event

from .models import Category, Fonds, Record

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


def browse_records(user, *, fonds=None, category=None, year=None, retention=None,
                   openness=None, state=None, q=None, sort=DEFAULT_SORT) -> QuerySet[Record]:
    """Visible records filtered the way the list page and the API filter them.

    ``q`` matches an archival code or legacy number (exact or prefix), an ID number (whole, or
    its last digits), a person's name, or words in the title. Full-text search lives in the
    search app; this is the catalogue's own look-up.
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
        records = records.filter(_lookup(q))
    return records.select_related("fonds", "category").order_by(*SORTS.get(sort, SORTS[DEFAULT_SORT]))


def _lookup(q: str) -> Q:
    text = unicodedata.normalize("NFKC", q).strip().upper()
    match = Q(archival_code__startswith=text) | Q(legacy_number=text)
    if _DIGITS.match(text):
        from dangan.people.id_numbers import upgrade_15

        ids = {text}
        if len(text) == 15:
            ids.add(upgrade_15(text))
        if len(text) >= 15:
            match |= Q(persons__id_number__in=ids) | Q(persons__id_number_15=text)
        else:
            match |= Q(persons__id_number__endswith=text)
    else:
        match |= Q(persons__name=text) | Q(title__contains=q.strip())
    return Q(pk__in=Record.objects.filter(match).values("pk"))


def read_record(user, pk) -> Record:
    """One record for ``user`` to look at, its reading audited; ``Record.DoesNotExist`` if not
    visible (callers answer 404: whether it exists is not for them to learn)."""
    record = (visible_records(user).select_related("fonds", "category", "unit", "volume")
              .prefetch_related("persons").get(pk=pk))
    record_event(actor=user, action=AuditEvent.Action.READ, obj=record)
    return record


def record_for_edit(user, pk) -> Record:
    """A record the user may see, for a form to change (the service checks the write right)."""
    return visible_records(user).select_related("fonds", "category").get(pk=pk)
