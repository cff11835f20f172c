"""Reading a register's rows (the first step of an import, ``services.import_register``): each
row's cells become checked values, a person and a natural key, or errors with their column;
totals rows, blank rows and repeated rows are told apart. The read-ahead process
(``readahead``) runs the same ``read_row``."""

import re
import string
import unicodedata
from dataclasses import asdict, dataclass, field

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.catalogue.dates import parse_date
from dangan.catalogue.models import Category, FieldDefinition, Fonds, Openness, Retention
from dangan.catalogue.schema import clean_value
from dangan.people import id_numbers
from dangan.people.names import fold
from dangan.people.services import check_person

#: First cells of a totals row at the bottom of a register.
TOTALS_WORDS = ("共计", "合计", "总计", "小计", "累计", "总数", "合計", "總計", "共計")


#: Date fields that describe the person, not the file: never the record's date.
PERSON_DATE_FIELDS = {"work_start"}


_SEX = {
    "男": "M",
    "男性": "M",
    "m": "M",
    "male": "M",
    "1": "M",
    "女": "F",
    "女性": "F",
    "f": "F",
    "female": "F",
    "2": "F",
}


_RETENTION_WORDS = {
    "永久": Retention.PERMANENT,
    "y": Retention.PERMANENT,
    # Before 2006 periods were 永久/长期/短期; 长期 became 30 years, 短期 10.
    "长期": Retention.D30,
    "長期": Retention.D30,
    "短期": Retention.D10,
}


_RETENTION_YEARS = re.compile(r"^(?:d|定期)?(\d+)年?$")


_YEAR = re.compile(r"^(\d{4})\s*年?度?$")


_COUNT = re.compile(r"^(\d+)\s*[页頁张張]?$")


_ID_CODES = {"id_missing", "id_format", "id_checksum", "id_birth_date", "id_name_conflict"}


@dataclass
class RowError:
    row: int
    column: str
    code: str
    message: str


@dataclass
class ImportReport:
    """What an import did (or, dry, would do), row by row where it matters."""

    file: str
    category: str
    fonds: str
    dry_run: bool
    sheet: str = ""
    header_row: int = 0
    mapping: dict = field(default_factory=dict)
    unmapped: list = field(default_factory=list)
    rows: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    #: Changes to filed records not made: they wait for an archivist's confirmation.
    held: int = 0
    #: Each change to a record on file, made or (dry run, held) not: row, record, archival code,
    #: state, what happened to it, and each field with its label (in the language of the run),
    #: the value before and after.
    changes: list[dict] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    #: Values imported that a person should look at: a date in the future, before the birth.
    checks: list[RowError] = field(default_factory=list)
    duplicates: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    blank_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    #: Dry run: rows whose title and responsible party the classifier puts in another category
    #: (``row``, ``title``, ``category``, ``retention``, ``confidence``), for the archivist to
    #: move or not; never moved on their own.
    proposals: list[dict] = field(default_factory=list)
    #: Rows the archivist moved to the category proposed for them, imported there (one entry a
    #: category: ``category``, ``rows``, ``created``, ``updated``, ``errors``, ``job``).
    moved: list[dict] = field(default_factory=list)
    seconds: float = 0.0
    job: int | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["errors"] = sorted(data["errors"], key=lambda e: (e["row"], e["column"]))
        data["checks"] = sorted(data["checks"], key=lambda e: (e["row"], e["column"]))
        return data

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})


@dataclass
class Row:
    number: int
    values: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    person: tuple | None = None  # (IdNumber, name)
    key: tuple | None = None
    compare: set = field(default_factory=set)  # value keys the register supplies
    errors: list = field(default_factory=list)  # (target, code, message)
    checks: list = field(default_factory=list)  # (target, code, message): imported, to look at


def cell_text(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if hasattr(raw, "isoformat"):
        return raw.isoformat()[:10]
    return unicodedata.normalize("NFKC", str(raw)).strip()


def cell_name(raw) -> str:
    """A person's name as written (traditional characters kept), without alignment spaces."""
    if raw is None:
        return ""
    return "".join(str(raw).split())


class RowReader:
    """Turns one register row into record values, metadata and a person, or errors."""

    def __init__(self, *, category: Category, fonds: Fonds, mapping: dict, headers: list[str]):
        self.category, self.fonds = category, fonds
        self.column = {target: headers.index(h) for h, target in mapping.items() if target}
        self.header = {target: h for h, target in mapping.items() if target}
        self.fields = {f.key: f for f in category.fields.all()}
        self.meta = [
            (key[5:], index)
            for key, index in self.column.items()
            if key.startswith("meta.") and key[5:] in self.fields
        ]
        self.date_fields = [
            key
            for key, f in self.fields.items()
            if f.kind == FieldDefinition.Kind.DATE
            and key not in PERSON_DATE_FIELDS
            and f"meta.{key}" in self.column
        ]
        self.today = timezone.localdate()
        self.person_file = "{name}" in (category.title_template or "")
        self.fingerprint_columns = sorted(self.column.values())
        self.template = category.title_template or ""
        self.template_keys = {
            name for _lit, name, _f, _c in string.Formatter().parse(self.template) if name
        }

    def cell(self, cells, target):
        index = self.column.get(target)
        return None if index is None else cells[index]

    def fingerprint(self, cells) -> tuple:
        return tuple(cell_text(cells[i]) for i in self.fingerprint_columns)

    def read(self, number: int, cells: list) -> Row:
        row = Row(number=number)
        self._person(row, cells)
        self._values(row, cells)
        self._metadata(row, cells)
        self._date_and_title(row, cells)
        if not row.errors:
            self._check_dates(row)
        if row.values.get("legacy_number"):
            row.key = ("n", row.values["legacy_number"])
        elif row.person:
            row.key = ("p", row.person[0].number)
        return row

    def _person(self, row, cells):
        name = cell_name(self.cell(cells, "name"))
        id_raw = self.cell(cells, "id_number")
        if not self.person_file and not name and cell_text(id_raw) == "":
            return
        sex = None
        sex_raw = cell_text(self.cell(cells, "sex")).lower()
        if sex_raw:
            sex = _SEX.get(sex_raw)
            if sex is None:
                row.errors.append(
                    (
                        "sex",
                        "sex_unreadable",
                        _("“%(value)s” is not a sex (男 or 女).") % {"value": sex_raw},
                    )
                )
        birth = None
        try:
            birth = parse_date(self.cell(cells, "birth_date"))
        except ValidationError as exc:
            row.errors.append(("birth_date", exc.code, exc.messages[0]))
        try:
            if not name:
                row.errors.append(("name", "name_missing", _("The name is missing.")))
                id_numbers.normalize(id_raw)
                return
            row.person = check_person(id_number=id_raw, name=name, sex=sex, birth_date=birth)
        except ValidationError as exc:
            target = {
                "sex_mismatch": "sex",
                "birth_date_mismatch": "birth_date",
                "name_missing": "name",
            }.get(exc.code, "id_number")
            row.errors.append((target, exc.code, exc.messages[0]))

    def _values(self, row, cells):
        values = row.values
        for target in (
            "legacy_number",
            "box_number",
            "title",
            "responsible",
            "remarks",
            "doc_number",
        ):
            if target in self.column:
                values[target] = cell_text(self.cell(cells, target))
                row.compare.add(target)
        if "page_count" in self.column:
            row.compare.add("page_count")
            text = cell_text(self.cell(cells, "page_count"))
            match = _COUNT.match(text)
            values["page_count"] = int(match.group(1)) if match else None
            if text and not match:
                row.errors.append(
                    (
                        "page_count",
                        "page_count_unreadable",
                        _("“%(value)s” is not a number of pages.") % {"value": text},
                    )
                )
        if "retention" in self.column:
            text = cell_text(self.cell(cells, "retention"))
            if text:
                row.compare.add("retention")
                retention = retention_of(text)
                if retention is None:
                    row.errors.append(
                        (
                            "retention",
                            "retention_unreadable",
                            _("“%(value)s” is not a retention period (永久, 30年, D10 …).")
                            % {"value": text},
                        )
                    )
                values["retention"] = retention
        if "year" in self.column:
            text = cell_text(self.cell(cells, "year"))
            match = _YEAR.match(text)
            if match:
                values["year"] = int(match.group(1))
            elif text:
                row.errors.append(
                    ("year", "year_unreadable", _("“%(value)s” is not a year.") % {"value": text})
                )
        if not values.get("responsible"):
            values["responsible"] = self.fonds.name
        values.setdefault(
            "openness",
            Openness.CONTROLLED if self.person_file or row.person else Openness.UNREVIEWED,
        )

    def _metadata(self, row, cells):
        for key, index in self.meta:
            raw = cells[index]
            try:
                value = clean_value(self.fields[key], raw)
            except ValidationError as exc:
                row.errors.append((f"meta.{key}", exc.code or "invalid", exc.messages[0]))
                continue
            if value is not None:
                row.metadata[key] = value

    def _date_and_title(self, row, cells):
        values = row.values
        date = None
        if "date" in self.column:
            try:
                date = parse_date(self.cell(cells, "date"))
            except ValidationError as exc:
                row.errors.append(("date", exc.code, exc.messages[0]))
                return
        for key in self.date_fields:
            if date is not None:
                break
            if key in row.metadata:
                date = parse_date(row.metadata[key])
        if date is None and values.get("year"):
            date = parse_date(values["year"])
        if date is None:
            date_targets = {"date", "year", *(f"meta.{k}" for k in self.date_fields)}
            if not any(target in date_targets for target, _code, _message in row.errors):
                column = (
                    "date"
                    if "date" in self.column
                    else next((f"meta.{k}" for k in self.date_fields), "date")
                )
                row.errors.append(
                    (
                        column,
                        "date_missing",
                        _("The row has no date, so the record's year is unknown."),
                    )
                )
        else:
            values["date"] = date.first_day
            values.setdefault("year", date.year)
            row.compare.update({"date", "year"})
        if not values.get("title"):
            values.pop("title", None)
            title = self._title(row)
            if title:
                # A supplied title (著录者自拟) is for new records only: the register has no
                # title of its own to set on a record already on file.
                values["title"] = title
            elif not row.errors:
                row.errors.append(
                    (
                        "title",
                        "title_missing",
                        _(
                            "The row has no title and the category has no title "
                            "template to supply one."
                        ),
                    )
                )

    def _check_dates(self, row):
        """Dates a register can hold but a life cannot: in the future (a retirement not yet
        reached, 2062 typed for 2026) or before the person was born. Imported as written, and
        listed for a person to look at (the dry run shows them row by row)."""
        dates = [
            (f"meta.{key}", parse_date(value))
            for key, value in row.metadata.items()
            if self.fields[key].kind == FieldDefinition.Kind.DATE
        ]
        if "date" in self.column and row.values.get("date"):
            dates.append(("date", parse_date(row.values["date"])))
        born = row.person[0].birth_date if row.person else None
        for target, date in dates:
            if date.first_day > self.today:
                row.checks.append(
                    (
                        target,
                        "date_in_future",
                        _("%(date)s lies in the future: check the year.") % {"date": date.iso},
                    )
                )
            elif born and (date.year, date.month or 12, date.day or 31) < (
                born.year,
                born.month,
                born.day,
            ):
                row.checks.append(
                    (
                        target,
                        "date_before_birth",
                        _("%(date)s is before the person was born (%(born)s): check the year.")
                        % {"date": date.iso, "born": born.isoformat()},
                    )
                )

    def _title(self, row) -> str:
        """The supplied title (著录者自拟), written in [ ] (DA/T 22)."""
        if not self.template:
            return ""
        data = {**row.metadata, "name": row.person[1] if row.person else ""}
        if any(not data.get(key) for key in self.template_keys):
            return ""
        return f"[{self.template.format_map(data)}]"


def retention_of(text: str) -> str | None:
    text = text.strip().lower()
    if text in _RETENTION_WORDS:
        return _RETENTION_WORDS[text]
    match = _RETENTION_YEARS.match(text)
    if match and f"D{int(match.group(1))}" in Retention.values:
        return f"D{int(match.group(1))}"
    return None


def is_totals(cells) -> str | None:
    for cell in cells:
        if cell is None or str(cell).strip() == "":
            continue
        text = "".join(str(cell).split())
        return text if text.startswith(TOTALS_WORDS) else None
    return None


class Seen:
    """What earlier rows of the same file held: their fingerprints, keys and ID numbers."""

    def __init__(self):
        self.fingerprints: dict[tuple, int] = {}
        self.keys: dict[tuple, int] = {}
        self.names: dict[str, tuple[str, int]] = {}
        self._folded: dict[str, str] = {}

    def fold(self, name: str) -> str:
        """``names.fold``, remembered: registers repeat names and folding is not free."""
        folded = self._folded.get(name)
        if folded is None:
            folded = self._folded[name] = fold(name)
        return folded


def checked_rows(register, reader: RowReader, report: ImportReport):
    seen = Seen()
    for number, cells in register.rows():
        row = read_row(number, cells, reader, seen, report)
        if row is not None:
            yield row


def read_row(number, cells, reader: RowReader, seen: Seen, report):
    """The checked row, or None when it is blank, a totals row, a duplicate or in error.

    A row is blank when every imported column is empty: registers are often printed with
    their 序号 running on below the last entry.
    """
    totals = is_totals(cells)
    if totals:
        report.skipped.append({"row": number, "reason": "totals", "text": totals[:40]})
        return None
    fingerprint = reader.fingerprint(cells)
    if not any(fingerprint):
        report.blank_rows += 1
        return None
    report.rows += 1
    if fingerprint in seen.fingerprints:
        report.duplicates.append({"row": number, "first_row": seen.fingerprints[fingerprint]})
        return None
    seen.fingerprints[fingerprint] = number
    row = reader.read(number, cells)
    if row.key is not None and not row.errors:
        first = seen.keys.setdefault(row.key, number)
        if first != number:
            target = "legacy_number" if row.key[0] == "n" else "id_number"
            row.errors.append(
                (
                    target,
                    "repeated_in_file",
                    _(
                        "Row %(first)d of this file already has this %(what)s, with "
                        "different content."
                    )
                    % {
                        "first": first,
                        "what": _("archive number") if row.key[0] == "n" else _("person"),
                    },
                )
            )
    if row.person and not row.errors:
        checked, name = row.person
        folded = seen.fold(name)
        earlier = seen.names.setdefault(checked.number, (folded, number))
        if earlier[0] != folded:
            row.errors.append(
                (
                    "id_number",
                    "id_name_conflict",
                    _("Row %(first)d has the ID number %(id)s under another name.")
                    % {"first": earlier[1], "id": id_numbers.mask(checked.number)},
                )
            )
    if row.errors:
        report_errors(report, reader, row.number, row.errors)
        return None
    for target, code, message in row.checks:
        column = reader.header.get(target, "")
        report.checks.append(RowError(row=number, column=column, code=code, message=str(message)))
    return row


def report_errors(report, reader, number, errors):
    for target, code, message in errors:
        column = reader.header.get(target, "")
        report.errors.append(RowError(row=number, column=column, code=code, message=str(message)))
