"""Metadata suggested by the page (著录建议): ID numbers, names and dates found in OCR text.

Suggestions are offered to the cataloguer, never applied on their own. An ID number is only
suggested when its check digit is right (a misread digit almost always breaks it); a name only
where the page labels it (``姓名：``); dates as the page writes them, to the precision given.
Comparing the scanned ID numbers with the record's catalogued persons catches a file put in the
wrong folder, or a number mistyped into the register.
"""

import re
import unicodedata
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from dangan.catalogue.bureau import ID_NUMBER_ALIASES, PERSON_NAME_ALIASES
from dangan.catalogue.dates import PartialDate, parse_date
from dangan.digitize.ocr import PageText
from dangan.people.id_numbers import IdNumber, mask, normalize
from dangan.people.names import fold

# 18 digits (the last may be X), or 15: not inside a longer run of digits.
_ID_CANDIDATE = re.compile(r"(?<![0-9])([0-9]{17}[0-9X]|[0-9]{15})(?![0-9X])")
_ID_LABEL = re.compile(
    "|".join(re.escape(a.replace(" ", "")) for a in ID_NUMBER_ALIASES) + "|身份證|身份號碼|身份证号"
)
_NAME_LABELS = sorted(
    {a.replace(" ", "") for a in PERSON_NAME_ALIASES} | {"姓名"}, key=len, reverse=True
)
_NAME = re.compile(
    "(?:" + "|".join(map(re.escape, _NAME_LABELS)) + r")[:：]?([\u3400-\u9fff·•]{2,12})"
)
# Words that follow a name on the same row of a form: the name stops where one begins.
_AFTER_NAME = re.compile(
    "性别|性別|性|出生|民族|年龄|年齡|身份|公民|籍贯|籍貫|单位|單位|工作|参加|參加"
    "|文化|职务|職務|原名|曾用名"
)
_DATE = re.compile(
    r"(?<![0-9])\d{4}\s*(?:年\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?"
    r"|([.\-/])\s*\d{1,2}(?:\s*\1\s*\d{1,2})?(?![0-9]))"
)
_LABEL = re.compile(r"([\u3400-\u9fff]+)[:：\s]*$")
_CHINESE_DIGITS = str.maketrans("〇○零一二三四五六七八九", "000123456789")
_CHINESE_DATE = re.compile(
    r"([〇○零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月"
    r"(?:([一二三四五六七八九十]{1,3})日)?"
)


@dataclass(frozen=True)
class FoundDate:
    date: PartialDate
    label: str  # the words before it on its line, e.g. "出生日期"
    source: str  # as written on the page


@dataclass(frozen=True)
class Suggestions:
    id_numbers: list[IdNumber] = field(default_factory=list)
    names: list[str] = field(default_factory=list)
    dates: list[FoundDate] = field(default_factory=list)


def suggest_metadata(page: PageText | str) -> Suggestions:
    """What the page's text offers for cataloguing, each item once, in page order."""
    text = page.text if isinstance(page, PageText) else page
    lines = [unicodedata.normalize("NFKC", line).upper() for line in text.splitlines()]
    # OCR splits digits and names with stray spaces; dates keep theirs apart from numbers.
    compact = ["".join(line.split()) for line in lines]
    return Suggestions(
        id_numbers=find_id_numbers(compact), names=find_names(compact), dates=find_dates(lines)
    )


def find_id_numbers(lines: list[str]) -> list[IdNumber]:
    """Checksum-valid 18-digit numbers anywhere; 15-digit ones only after an ID-number label
    (they have no check digit, so any 15 digits with a date in them would pass)."""
    found: dict[str, IdNumber] = {}
    for line in lines:
        for match in _ID_CANDIDATE.finditer(line):
            raw = match.group(1)
            if len(raw) == 15 and not _ID_LABEL.search(line[: match.start()]):
                continue
            try:
                checked = normalize(raw)
            except ValidationError:
                continue
            found.setdefault(checked.number, checked)
    return list(found.values())


def find_names(lines: list[str]) -> list[str]:
    names: list[str] = []
    for line in lines:
        for match in _NAME.finditer(line):
            name = match.group(1)
            stop = _AFTER_NAME.search(name, 1)
            if stop:
                name = name[: stop.start()]
            name = name.strip("·•")
            if 2 <= len(name) <= 4 or ("·" in name and len(name) <= 12):
                if fold(name) not in {fold(n) for n in names}:
                    names.append(name)
    return names


def find_dates(lines: list[str]) -> list[FoundDate]:
    found: list[FoundDate] = []
    seen = set()
    for line in lines:
        for source, start in _date_strings(line):
            try:
                date = parse_date(source)
            except ValidationError:
                continue
            if date is None or (date.iso, start) in seen:
                continue
            seen.add((date.iso, start))
            label = _LABEL.search(line[:start])
            found.append(
                FoundDate(date=date, label=label.group(1)[-8:] if label else "", source=source)
            )
    return found


def _date_strings(line: str) -> list[tuple[str, int]]:
    """The dates written on ``line`` as ``parse_date`` reads them, with where they start."""
    found = [(match.group(0).strip(), match.start()) for match in _DATE.finditer(line)]
    for match in _CHINESE_DATE.finditer(line):
        year = match.group(1).translate(_CHINESE_DIGITS)
        month, day = _chinese_number(match.group(2)), _chinese_number(match.group(3) or "")
        found.append((f"{year}年{month}月" + (f"{day}日" if day else ""), match.start()))
    return sorted(found, key=lambda item: item[1])


def _chinese_number(text: str) -> int | None:
    """一 to 三十一, as months and days are written."""
    if not text:
        return None
    digits = {c: i for i, c in enumerate("〇一二三四五六七八九")}
    if "十" not in text:
        return digits.get(text[0])
    tens, _ten, units = text.partition("十")
    return (digits.get(tens, 1) if tens else 1) * 10 + (digits.get(units, 0) if units else 0)


@dataclass(frozen=True)
class IdComparison:
    """The scanned ID numbers against the record's catalogued persons."""

    matched: list[str]  # scanned and catalogued
    unknown: list[str]  # scanned, but no catalogued person of the record has it
    missing: list[str]  # catalogued, but not seen on the page

    @property
    def differs(self) -> bool:
        """A number on the page that the catalogue does not know, while it knows others."""
        return bool(self.unknown) and bool(self.matched or self.missing)

    def messages(self) -> list[str]:
        """What to tell the cataloguer, numbers masked."""
        return [
            _(
                "The page shows the ID number %(scanned)s, which no person of this record has "
                "(catalogued: %(catalogued)s)."
            )
            % {
                "scanned": mask(number),
                "catalogued": ", ".join(mask(n) for n in self.matched + self.missing) or "—",
            }
            for number in (self.unknown if self.differs else [])
        ]


def compare_with_record(*, record, id_numbers: list[IdNumber] | list[str]) -> IdComparison:
    """Compare the ID numbers read on a page of ``record`` with its catalogued persons.

    ``record`` must come from a permission-aware selector: this reads its persons only.
    """
    catalogued = list(record.persons.values_list("id_number", flat=True))
    scanned = []
    for number in id_numbers:
        value = number.number if isinstance(number, IdNumber) else normalize(number).number
        if value not in scanned:
            scanned.append(value)
    return IdComparison(
        matched=[n for n in scanned if n in catalogued],
        unknown=[n for n in scanned if n not in catalogued],
        missing=[n for n in catalogued if n not in scanned],
    )
