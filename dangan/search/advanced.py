"""Advanced search (高级检索): conditions on fields, a date range, exact or fuzzy, AND or OR.

A condition names ``responsible`` (责任者), ``doc_number`` (文号), ``title`` (题名) or a field of
a category's schema (``FieldDefinition.key``, e.g. 工作单位's key); the date range is on the
record's date. Conditions are checked by the database on the candidates (``as_q``); the index
is only asked for the conditions' words (``index_nodes``), which every record holding the
value in that field also holds, so the index narrows and the catalogue decides, as for the box.
"""

import datetime
import re
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext as _

from dangan.catalogue.models import FieldDefinition

from .analyzer import masked_text, parse_query

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
    any: bool = False  # OR instead of AND between the conditions

    def __bool__(self):
        return bool(self.conditions or self.date_from or self.date_to)

    def as_q(self) -> Q:
        parts = [_condition_q(c) for c in self.conditions]
        q = Q()
        for part in parts:
            q = (q | part) if self.any else (q & part)
        if self.date_from:
            q &= Q(date__gte=self.date_from)
        if self.date_to:
            q &= Q(date__lte=self.date_to)
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


def build(*, fields=(), date_from="", date_to="", exact=False, any_of=False) -> Advanced:
    """An ``Advanced`` from ``NAME=VALUE`` strings and date texts, checked: an unknown
    field, an empty value, a date that is none or a range backwards is a ValidationError."""
    known = set(RECORD_FIELDS) | set(FieldDefinition.objects.values_list("key", flat=True))
    conditions = []
    for item in fields:
        name, sep, value = (
            item.partition("=") if isinstance(item, str) else (*item[:1], "=", item[1])
        )
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
        conditions.append(Condition(name=name, value=value[:200], exact=exact))
    advanced = Advanced(
        conditions=conditions,
        date_from=parse_date(date_from),
        date_to=parse_date(date_to, end=True),
        any=any_of,
    )
    if advanced.date_from and advanced.date_to and advanced.date_from > advanced.date_to:
        raise ValidationError(_("The date range ends before it begins."), code="dates_backwards")
    return advanced
