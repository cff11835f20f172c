"""National ID numbers (公民身份号码): normalising, upgrading 15 to 18 digits, validating, masking.

Registers hold them as typed by many hands over decades: full-width digits, spaces, a lower-case
``x``, the old 15-digit form. Everything that enters Dangan passes through ``normalize`` first.
"""

import datetime
import re
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.cn import ric

_SEPARATORS = re.compile(r"[\s\-_'‘’]+")


@dataclass(frozen=True)
class IdNumber:
    """A checked 18-digit number with what it tells about its holder."""

    number: str
    birth_date: datetime.date
    sex: str  # "M" or "F", from the 17th digit
    old_number: str = ""  # the 15-digit form it was upgraded from, if any

    @property
    def number_15(self) -> str:
        """The 15-digit form (drop the century and the check digit), as old files carry it."""
        return self.number[:6] + self.number[8:17]


def _clean(raw) -> str:
    text = unicodedata.normalize("NFKC", str(raw if raw is not None else ""))
    if isinstance(raw, float) and raw.is_integer():  # a number cell in Excel
        text = str(int(raw))
    return _SEPARATORS.sub("", text).upper()


def upgrade_15(number15: str) -> str:
    """The 18-digit number of a 15-digit one: century 19 inserted, check digit appended."""
    body = number15[:6] + "19" + number15[6:]
    return body + ric.calc_check_digit(body + "0")


def normalize(raw) -> IdNumber:
    """Parse ``raw`` into an ``IdNumber`` or raise ``ValidationError`` with a code.

    Codes: ``id_missing``, ``id_format`` (length or characters), ``id_checksum`` (wrong check
    digit), ``id_birth_date`` (no such date, or in the future).
    """
    text = _clean(raw)
    if not text:
        raise ValidationError(_("The ID number is missing."), code="id_missing")
    old = ""
    if len(text) == 15 and text.isdigit():
        old, text = text, upgrade_15(text)
    if len(text) != 18 or not text[:17].isdigit() or not (text[17].isdigit() or text[17] == "X"):
        raise ValidationError(
            _("“%(value)s” is not an ID number: it must have 18 digits (the last may be X) or 15."),
            code="id_format",
            params={"value": mask(text)},
        )
    if ric.calc_check_digit(text) != text[17]:
        raise ValidationError(
            _("The ID number %(value)s has a wrong check digit: the number was mistyped."),
            code="id_checksum",
            params={"value": mask(text)},
        )
    try:
        birth = datetime.date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        birth = None
    if birth is None or birth > datetime.date.today() or birth.year < 1880:
        raise ValidationError(
            _("The ID number %(value)s contains an impossible date of birth."),
            code="id_birth_date",
            params={"value": mask(text)},
        )
    return IdNumber(
        number=text, birth_date=birth, sex="M" if int(text[16]) % 2 else "F", old_number=old
    )


def mask(number: str) -> str:
    """The number as it may be shown or logged: region and last four digits only."""
    number = str(number or "")
    if len(number) <= 8:
        return "*" * len(number)
    return number[:6] + "*" * (len(number) - 10) + number[-4:]
