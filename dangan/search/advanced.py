"""Advanced search (高级检索): conditions on fields, a date range, exact or fuzzy, AND or OR.

A condition names ``responsible`` (责任者), ``doc_number`` (文号), ``title`` (题名) or a field of
a category's schema (``FieldDefinition.key``, e.g. 工作单位's key) that the user may see; one date
range is on the record's date, another on its filing date (归档时间, ``Record.filed_at``).
Conditions are checked by the database on the candidates (``as_q``); the index is only asked
for the conditions' words (``index_nodes``), which every record holding the value in that field
also holds, so the index narrows and the catalogue decides, as for the box.
"""

import datetime
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from dangan.catalogue.models import FieldDefinition, Record
from dangan.catalogue.selectors import granted_categories

from .analyzer import masked_text, parse_query

#: How many field conditions the advanced form offers.
CONDITION_ROWS = 4
#: What a saved search keeps of the page's query string: the box, the facets, the conditions.
SAVED_PARAMETERS = (
    "q",
    "mode",
    "fonds",
    "category",
    "year",
    "retention",
    "openness",
    *(f"{p}{n}" for n in range(1, CONDITION_ROWS + 1) for p in ("f", "v", "x")),
    "match",
    "date_from",
    "date_to",
    "filed_from",
    "filed_to",
)

#: The record's own columns a condition may name, by the name the command line uses.
RECORD_FIELDS = ("responsible", "doc_number", "title")


@dataclass
class Condition:
    name: str
    value: str
    exact: bool = False


@dataclass
class Advanced:
    conditions: list = field(default_factory=list)
    date_from: datetime.date | None = None
    date_to: datetime.date | None = None
    filed_from: datetime.date | None = None
    filed_to: datetime.date | None = None
    any: bool = False  # OR instead of AND between the conditions (the dates always AND)

    def __bool__(self):
        return bool(
            self.conditions or self.date_from or self.date_to or self.filed_from or self.filed_to
        )

    def as_q(self) -> Q:
        parts = [_condition_q(c) for c in self.conditions]
        q = Q()
        for part in parts:
            q = (q | part) if self.any else (q & part)
        if self.date_from:
            q &= Q(date__gte=self.date_from)
        if self.date_to:
            q &= Q(date__lte=self.date_to)
        if self.filed_from:
            q &= Q(filed_at__date__gte=self.filed_from)
        if self.filed_to:
            q &= Q(filed_at__date__lte=self.filed_to)
        return q

    def index_nodes(self) -> list:
        """The conditions' words as index queries (None for a value with nothing to search)."""
        return [parse_query(c.value) for c in self.conditions]

    def describe(self) -> dict:
        """For the audit trail."""
        return {
            "conditions": [[c.name, masked_text(c.value), c.exact] for c in self.conditions],
            "from": self.date_from.isoformat() if self.date_from else None,
            "to": self.date_to.isoformat() if self.date_to else None,
            **(
                {
                    "filed_from": self.filed_from and self.filed_from.isoformat(),
                    "filed_to": self.filed_to and self.filed_to.isoformat(),
                }
                if self.filed_from or self.filed_to
                else {}
            ),
            "any": self.any,
        }


def _condition_q(condition: Condition) -> Q:
    lookup = "iexact" if condition.exact else "icontains"
    column = condition.name if condition.name in RECORD_FIELDS else f"metadata__{condition.name}"
    return Q(**{f"{column}__{lookup}": condition.value})


def parse_date(text: str, *, end=False) -> datetime.date | None:
    """``2001-05-01``, ``2001-05`` or ``2001``; a month or year stands for its first day (its
    last with ``end``). ValidationError for anything else."""
    text = (text or "").strip()
    if not text:
        return None
    match = re.fullmatch(r"(\d{4})(?:[-./](\d{1,2})(?:[-./](\d{1,2}))?)?", text)
    try:
        if not match:
            raise ValueError(text)
        year, month, day = int(match[1]), match[2], match[3]
        if day:
            return datetime.date(year, int(month), int(day))
        if month:
            first = datetime.date(year, int(month), 1)
            if not end:
                return first
            following = datetime.date(year + (first.month == 12), first.month % 12 + 1, 1)
            return following - datetime.timedelta(days=1)
        return datetime.date(year, 12, 31) if end else datetime.date(year, 1, 1)
    except ValueError:
        raise ValidationError(
            _("“%(text)s” is not a date: write it as 2001-05-01, 2001-05 or 2001.")
            % {"text": text[:40]},
            code="bad_date",
        ) from None


def known_fields(user=None) -> set[str]:
    """The names a condition may use: the record's own and the schema fields of the categories
    ``user`` may read (every category's for the system, ``user`` None)."""
    definitions = FieldDefinition.objects.all()
    if user is not None:
        definitions = definitions.filter(category__in=granted_categories(user))
    return set(RECORD_FIELDS) | set(definitions.values_list("key", flat=True))


def field_choices(user) -> list[tuple[str, str]]:
    """The fields a condition may name, labelled for the form: the record's own first, then
    each schema field of the user's categories (one entry per key, with its categories)."""
    choices = [
        (name, capfirst(Record._meta.get_field(name).verbose_name)) for name in RECORD_FIELDS
    ]
    by_key: dict = {}
    definitions = FieldDefinition.objects.filter(
        category__in=granted_categories(user)
    ).select_related("category")
    for definition in definitions.order_by("category__position", "category__code", "position"):
        label, categories = by_key.setdefault(definition.key, (definition.label, []))
        categories.append(definition.category.name)
    for key, (label, categories) in by_key.items():
        choices.append((key, f"{label} · {', '.join(categories[:3])}"))
    return choices


def build(
    *,
    fields=(),
    date_from="",
    date_to="",
    filed_from="",
    filed_to="",
    exact=False,
    any_of=False,
    user=None,
) -> Advanced:
    """An ``Advanced`` from conditions and date texts, checked: an unknown field (or one of a
    category ``user`` may not read: the same message, so nothing is told), an empty value, a
    date that is none or a range backwards is a ValidationError.

    A condition is a ``NAME=VALUE`` string, or a ``(name, value)`` or ``(name, value, exact)``
    tuple; ``exact`` applies to those that do not say.
    """
    known = known_fields(user)
    conditions = []
    for item in fields:
        if isinstance(item, str):
            name, sep, value = item.partition("=")
            item_exact = exact
        else:
            name, value, item_exact = (*item, exact)[:3]
            sep = "="
        name, value = name.strip(), value.strip()
        if not sep or not name or not value:
            raise ValidationError(
                _("Write a field condition as NAME=VALUE, e.g. responsible=县劳动局."),
                code="bad_condition",
            )
        if name not in known:
            raise ValidationError(
                _(
                    "There is no field “%(name)s”: name responsible, doc_number, title or a "
                    "field of a category's schema."
                )
                % {"name": name[:40]},
                code="unknown_field",
            )
        conditions.append(Condition(name=name, value=value[:200], exact=bool(item_exact)))
    advanced = Advanced(
        conditions=conditions,
        date_from=parse_date(date_from),
        date_to=parse_date(date_to, end=True),
        filed_from=parse_date(filed_from),
        filed_to=parse_date(filed_to, end=True),
        any=any_of,
    )
    for begin, end in [
        (advanced.date_from, advanced.date_to),
        (advanced.filed_from, advanced.filed_to),
    ]:
        if begin and end and begin > end:
            raise ValidationError(
                _("The date range ends before it begins."), code="dates_backwards"
            )
    return advanced
