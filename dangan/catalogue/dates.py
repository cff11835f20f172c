"""Dates as registers write them.

``1958.03``, ``1958年3月``, ``19580301``, ``1958-3-1``, Excel date cells.

A date keeps the precision it was given: a register that says only "March 1958" must not be
turned into "1 March 1958" in the metadata (the record's sortable ``date`` uses the first day).
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_PATTERNS = [
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})(\d{2})$"),
    re.compile(r"^(\d{4})\s*[.\-/年]\s*(\d{1,2})\s*[.\-/月]\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})\s*[.\-/年]\s*(\d{1,2})\s*月?$"),
    re.compile(r"^(\d{4})\s*年?$"),
]


@dataclass(frozen=True)
class PartialDate:
    """A date known to the year, the month or the day."""

    year: int
    month: int | None = None
    day: int | None = None

    @property
    def first_day(self) -> datetime.date:
        return datetime.date(self.year, self.month or 1, self.day or 1)

    @property
    def iso(self) -> str:
        """``1958``, ``1958-03`` or ``1958-03-01``: the form kept in metadata."""
        parts = [f"{self.year:04d}"]
        if self.month:
            parts.append(f"{self.month:02d}")
            if self.day:
                parts.append(f"{self.day:02d}")
        return "-".join(parts)

    def agrees_with(self, date: datetime.date) -> bool:
        """Whether ``date`` lies within this date's precision."""
        return (
            self.year == date.year
            and (self.month is None or self.month == date.month)
            and (self.day is None or self.day == date.day)
        )


def parse_date(value) -> PartialDate | None:
    """Read ``value`` (a cell or a string), None when blank; ``ValidationError`` when unreadable."""
    if value is None:
        return None
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return PartialDate(value.year, value.month, value.day)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    for pattern in _PATTERNS:
        match = pattern.match(text)
        if match:
            numbers = [int(g) for g in match.groups()]
            result = PartialDate(*numbers)
            try:
                result.first_day  # noqa: B018 - raises on a month 13 or 31 February
                if result.day is None and result.month is not None and not 1 <= result.month <= 12:
                    raise ValueError
            except ValueError:
                break
            if not 1000 <= result.year <= 2999:
                break
            return result
    raise ValidationError(
        _("“%(value)s” is not a date that can be read."),
        code="date_unreadable",
        params={"value": text[:40]},
    )
