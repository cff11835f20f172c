"""Importing an old register into the catalogue: one pipeline for the command line and the web.

read (``registers``) → map headers (``mapping``) → check each row → match rows to records on
file → create new records in batches (``catalogue.services.create_records``, filed, numbered,
audited) and update changed ones (``update_record``).

* Every row is accounted for: created, updated, unchanged, an error (row, column, code,
  message), a duplicate of an earlier row, or a skipped totals row. Blank rows are counted.
* Idempotent: a row's natural key is its legacy number (档案号) within the category, or, when
  the register has no number, the person it concerns. Re-importing the same file changes nothing.
* Batches: each batch of ``BATCH_SIZE`` rows is one transaction. An interrupted import keeps
  the batches that were committed, and re-running the file continues (the rows already in are
  "unchanged"); the ``ImportJob`` row tells how far it got.
* ``dry_run`` runs every check and every look-up and writes nothing.
"""

import re
import string
import time
import unicodedata
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dangan.accounts.models import Role
from dangan.accounts.selectors import may_write_record
from dangan.catalogue.dates import parse_date
from dangan.catalogue.models import Category, FieldDefinition, Fonds, Openness, Record, Retention
from dangan.catalogue.schema import clean_value
from dangan.catalogue.services import (
    CODE_FIELDS,
    RecordDraft,
    check_draft,
    create_records,
    update_record,
)
from dangan.people import id_numbers
from dangan.people.names import fold
from dangan.people.selectors import persons_by_id_number
from dangan.people.services import check_person, resolve_persons

from . import mapping as mappings
from . import readahead, registers
from .models import ImportJob
from .selectors import records_by_key

#: Rows per transaction: large enough that numbering (one counter update per year in a batch)
#: and the audit chain's head cost little per row, small enough to hold the write lock briefly.
BATCH_SIZE = 5000
#: From this size on a register is read and checked in a second process while this one writes
#: (``readahead``); starting that process costs about a second. 1 MB is some 20,000 rows.
READ_AHEAD_BYTES = 1_000_000
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
    duplicates: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    blank_rows: int = 0
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    job: int | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["errors"] = sorted(data["errors"], key=lambda e: (e["row"], e["column"]))
        return data

    @property
    def error_rows(self) -> int:
        return len({e.row for e in self.errors})


@dataclass
class _Row:
    number: int
    values: dict = field(default_factory=dict)
    metadata: dict = field(default_factory=dict)
    person: tuple | None = None  # (IdNumber, name)
    key: tuple | None = None
    compare: set = field(default_factory=set)  # value keys the register supplies
    errors: list = field(default_factory=list)  # (target, code, message)


# --- reading a row ---------------------------------------------------------------------------


def _text(raw) -> str:
    if raw is None:
        return ""
    if isinstance(raw, float) and raw.is_integer():
        raw = int(raw)
    if hasattr(raw, "isoformat"):
        return raw.isoformat()[:10]
    return unicodedata.normalize("NFKC", str(raw)).strip()


def _name(raw) -> str:
    """A person's name as written (traditional characters kept), without alignment spaces."""
    if raw is None:
        return ""
    return "".join(str(raw).split())


class _RowReader:
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
        return tuple(_text(cells[i]) for i in self.fingerprint_columns)

    def read(self, number: int, cells: list) -> _Row:
        row = _Row(number=number)
        self._person(row, cells)
        self._values(row, cells)
        self._metadata(row, cells)
        self._date_and_title(row, cells)
        if row.values.get("legacy_number"):
            row.key = ("n", row.values["legacy_number"])
        elif row.person:
            row.key = ("p", row.person[0].number)
        return row

    def _person(self, row, cells):
        name = _name(self.cell(cells, "name"))
        id_raw = self.cell(cells, "id_number")
        if not self.person_file and not name and _text(id_raw) == "":
            return
        sex = None
        sex_raw = _text(self.cell(cells, "sex")).lower()
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
                values[target] = _text(self.cell(cells, target))
                row.compare.add(target)
        if "page_count" in self.column:
            row.compare.add("page_count")
            text = _text(self.cell(cells, "page_count"))
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
            text = _text(self.cell(cells, "retention"))
            if text:
                row.compare.add("retention")
                retention = _retention(text)
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
            text = _text(self.cell(cells, "year"))
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

    def _title(self, row) -> str:
        """The supplied title (著录者自拟), written in [ ] (DA/T 22)."""
        if not self.template:
            return ""
        data = {**row.metadata, "name": row.person[1] if row.person else ""}
        if any(not data.get(key) for key in self.template_keys):
            return ""
        return f"[{self.template.format_map(data)}]"


def _retention(text: str) -> str | None:
    text = text.strip().lower()
    if text in _RETENTION_WORDS:
        return _RETENTION_WORDS[text]
    match = _RETENTION_YEARS.match(text)
    if match and f"D{int(match.group(1))}" in Retention.values:
        return f"D{int(match.group(1))}"
    return None


def _is_totals(cells) -> str | None:
    for cell in cells:
        if cell is None or str(cell).strip() == "":
            continue
        text = "".join(str(cell).split())
        return text if text.startswith(TOTALS_WORDS) else None
    return None


# --- the import ------------------------------------------------------------------------------


def find_category(value: str) -> Category:
    """A category by its code (SYTG) or its name (失业人员托管档案)."""
    text = (value or "").strip()
    category = (
        Category.objects.filter(code__iexact=text).first()
        or Category.objects.filter(name=text).first()
    )
    if category is None:
        raise ValidationError(
            _("There is no category “%(value)s”. Categories: %(known)s.")
            % {
                "value": text,
                "known": ", ".join(
                    f"{c.code} {c.name}" for c in Category.objects.order_by("position")
                ),
            },
            code="category_unknown",
        )
    return category


def find_fonds(value: str | None) -> Fonds:
    """A fonds by its number; the first fonds when none is given."""
    fonds = (
        Fonds.objects.filter(code__iexact=value.strip()).first()
        if value
        else Fonds.objects.order_by("code").first()
    )
    if fonds is None:
        raise ValidationError(
            _("There is no fonds “%(value)s”.") % {"value": value or ""}, code="fonds_unknown"
        )
    return fonds


def open_register(path, *, category: Category, mapping: dict | None = None) -> registers.Register:
    """The register at ``path``; its header row has names the category (or ``mapping``) knows."""
    known = _known_headers(category, mapping)
    return registers.open_register(path, score=lambda cells: mappings.header_score(cells, known))


def _known_headers(category: Category, mapping: dict | None) -> dict[str, str]:
    known = mappings.known_headers(category)
    known.update({mappings.normalize_header(h): str(t) for h, t in (mapping or {}).items() if t})
    return known


def suggest_mapping(register: registers.Register, category: Category) -> dict:
    return mappings.suggest(register.headers, category)


def import_register(
    *,
    actor,
    path,
    category: Category,
    fonds: Fonds,
    mapping: dict | None = None,
    dry_run: bool = False,
    job: ImportJob | None = None,
    progress=None,
    batch_size: int = BATCH_SIZE,
    read_ahead: bool | None = None,
    confirm_filed: bool = False,
    reason: str = "",
) -> ImportReport:
    """Import the register at ``path`` into ``category`` of ``fonds``; see the module docstring.

    ``mapping`` is {header: target} (None: suggested from the headers). ``actor`` None is the
    system (an operator's command). Raises ``registers.RegisterUnreadable`` when the file cannot
    be read at all, ``ValidationError`` for a mapping that does not fit the category and
    ``PermissionDenied`` when ``actor`` may not file records of this category in this fonds.
    Bad rows are not exceptions: they are in the report. ``read_ahead``: read and check the
    rows in a second process (``readahead``); None decides by the file's size.

    A record on file that is already filed (已归档) is never changed silently: its changes are
    listed (``report.changes``, fields before and after) and *held* unless ``confirm_filed`` —
    an archivist's confirmation, with the ``reason`` that goes into each record's history.
    """
    started = time.monotonic()
    confirm = _confirmation(actor, confirm_filed, reason)
    known = _known_headers(category, mapping)
    register = registers.open_register(
        path, score=lambda cells: mappings.header_score(cells, known)
    )
    mapping = (
        mappings.check(mapping, register.headers, category)
        if mapping is not None
        else mappings.suggest(register.headers, category)
    )
    _check_may_file(actor, category, fonds)
    report = ImportReport(
        file=Path(path).name,
        category=category.code,
        fonds=fonds.code,
        dry_run=dry_run,
        sheet=register.sheet,
        header_row=register.header_row,
        mapping=mapping,
        unmapped=[h for h, t in mapping.items() if not t],
    )
    reader = _RowReader(category=category, fonds=fonds, mapping=mapping, headers=register.headers)
    report.warnings = _mapping_warnings(reader)
    if not dry_run:
        job = _start_job(
            actor=actor, job=job, path=path, category=category, fonds=fonds, mapping=mapping
        )
        report.job = job.pk
    if read_ahead is None:
        read_ahead = Path(path).stat().st_size >= READ_AHEAD_BYTES
    rows = (
        readahead.checked_rows(path=path, known=known, reader=reader, report=report)
        if read_ahead
        else _checked_rows(register, reader, report)
    )
    try:
        batch: list[_Row] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= batch_size:
                _run_batch(
                    batch,
                    actor=actor,
                    category=category,
                    fonds=fonds,
                    reader=reader,
                    report=report,
                    dry_run=dry_run,
                    job=job,
                    confirm=confirm,
                )
                batch = []
                if progress:
                    progress(report)
        _run_batch(
            batch,
            actor=actor,
            category=category,
            fonds=fonds,
            reader=reader,
            report=report,
            dry_run=dry_run,
            job=job,
            confirm=confirm,
        )
    except BaseException:
        if job is not None and not dry_run:
            ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.FAILED)
        raise
    finally:
        rows.close()  # a reading process still running stops
    report.seconds = round(time.monotonic() - started, 3)
    if progress:
        progress(report)
    if job is not None and not dry_run:
        job.state, job.report = ImportJob.State.DONE, report.as_dict()
        job.save(update_fields=["state", "report", "updated_at"])
    return report


def _check_may_file(actor, category, fonds):
    if actor is None:
        return
    probe = Record(fonds=fonds, category=category, unit=None)
    if not may_write_record(actor, probe):
        raise PermissionDenied(
            _("You may not file records of %(category)s in fonds %(fonds)s.")
            % {"category": category.name, "fonds": fonds.code}
        )


def _mapping_warnings(reader: _RowReader) -> list[str]:
    warnings = []
    if reader.person_file:
        for target in ("name", "id_number"):
            if target not in reader.column:
                warnings.append(
                    _("No column is mapped to %(target)s: every row will be an error.")
                    % {"target": mappings.targets(reader.category)[target]}
                )
    if "legacy_number" not in reader.column:
        warnings.append(
            _(
                "No column is mapped to the legacy archive number: rows are recognised "
                "on re-import by their person only."
            )
        )
    return warnings


def _start_job(*, actor, job, path, category, fonds, mapping) -> ImportJob:
    if job is None:
        job = ImportJob(
            created_by=actor if getattr(actor, "pk", None) else None,
            original_name=Path(path).name,
            fonds=fonds,
            category=category,
        )
    job.mapping, job.state, job.rows_done = mapping, ImportJob.State.RUNNING, 0
    job.save()
    return job


class _Seen:
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


def _checked_rows(register, reader: _RowReader, report: ImportReport):
    seen = _Seen()
    for number, cells in register.rows():
        row = _read_row(number, cells, reader, seen, report)
        if row is not None:
            yield row


def _read_row(number, cells, reader: _RowReader, seen: _Seen, report):
    """The checked row, or None when it is blank, a totals row, a duplicate or in error.

    A row is blank when every imported column is empty: registers are often printed with
    their 序号 running on below the last entry.
    """
    totals = _is_totals(cells)
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
        _report_errors(report, reader, row.number, row.errors)
        return None
    return row


def _report_errors(report, reader, number, errors):
    for target, code, message in errors:
        column = reader.header.get(target, "")
        report.errors.append(RowError(row=number, column=column, code=code, message=str(message)))


def _confirmation(actor, confirm_filed: bool, reason: str) -> str | None:
    """The reason of an archivist's confirmation of changes to filed records, or None."""
    if not confirm_filed:
        return None
    if actor is not None and getattr(actor, "role", None) != Role.ARCHIVIST:
        raise PermissionDenied(_("Only an archivist confirms changes to filed records."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            _("Give the reason for changing filed records."), code="reason_missing"
        )
    return reason


def _run_batch(
    rows: list[_Row], *, actor, category, fonds, reader, report, dry_run, job, confirm=None
):
    if not rows:
        return
    rows = _check_persons_on_file(rows, reader, report)
    existing = records_by_key(
        category=category,
        numbers={r.key[1] for r in rows if r.key and r.key[0] == "n"},
        id_numbers={r.key[1] for r in rows if r.key and r.key[0] == "p"},
    )
    new, changed = [], []
    for row in rows:
        record = existing.get(row.key) if row.key else None
        if record is None:
            new.append(row)
            continue
        change = _changes(record, row, reader)
        if change is None:
            report.unchanged += 1
        elif record.state == Record.State.FILED and confirm is None:
            _hold(report, row, record, change, category)
        else:
            changed.append((row, record, change))
    if dry_run:
        _dry_batch(
            new, changed, actor=actor, fonds=fonds, category=category, reader=reader, report=report
        )
        return
    with transaction.atomic():
        persons = resolve_persons(
            actor=actor, entries=[r.person for r in [*new, *(c[0] for c in changed)] if r.person]
        )
        _create(
            new, persons, actor=actor, fonds=fonds, category=category, reader=reader, report=report
        )
        for row, record, change in changed:
            values, metadata, new_persons = change
            try:
                with transaction.atomic():
                    update_record(
                        actor=actor,
                        record=record,
                        values=values,
                        metadata=metadata,
                        persons=[persons[row.person[0].number]] if new_persons else None,
                        reason=confirm or "",
                    )
            except (ValidationError, PermissionDenied) as exc:
                _report_errors(report, reader, row.number, _error_list(exc))
                continue
            report.updated += 1
            report.changes.append(_described(row, record, change, category, "changed"))
        if job is not None:
            job.rows_done = report.rows
            ImportJob.objects.filter(pk=job.pk).update(rows_done=report.rows)


def _hold(report, row, record, change, category) -> None:
    report.held += 1
    described = _described(row, record, change, category, "held")
    described["reason"] = _(
        "%(code)s is filed: its changes wait for an archivist's confirmation "
        "(import again with the confirmation and a reason)."
    ) % {"code": record.archival_code or f"#{record.pk}"}
    report.changes.append(described)


def _shown(value) -> str:
    if value in (None, ""):
        return ""
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _described(row, record, change, category, status: str) -> dict:
    """A change to a record on file as the report lists it: each field's label (the language
    of the run: Chinese on the pages), the value before and after."""
    values, metadata, new_persons = change
    labels = {f.key: f.label for f in category.fields.all()} if metadata else {}
    fields = [
        {
            "field": key,
            "label": str(Record._meta.get_field(key).verbose_name),
            "before": _shown(getattr(record, key)),
            "after": _shown(value),
        }
        for key, value in sorted(values.items())
    ]
    fields += [
        {
            "field": f"meta.{key}",
            "label": str(labels.get(key, key)),
            "before": _shown(record.metadata.get(key)),
            "after": _shown(value),
        }
        for key, value in sorted((metadata or {}).items())
    ]
    if new_persons:
        fields.append(
            {
                "field": "persons",
                "label": str(_("Persons")),
                "before": ", ".join(id_numbers.mask(n) for n in sorted(record.subject_numbers)),
                "after": id_numbers.mask(row.person[0].number),
            }
        )
    return {
        "row": row.number,
        "record": record.pk,
        "archival_code": record.archival_code,
        "state": record.state,
        "status": status,
        "fields": fields,
    }


def _check_persons_on_file(rows, reader, report) -> list[_Row]:
    """Rows whose ID number is on file under another name are errors (one of the two is wrong)."""
    on_file = persons_by_id_number({r.person[0].number for r in rows if r.person})
    kept = []
    for row in rows:
        person = on_file.get(row.person[0].number) if row.person else None
        if person is not None and fold(person.name) != fold(row.person[1]):
            _report_errors(
                report,
                reader,
                row.number,
                [
                    (
                        "id_number",
                        "id_name_conflict",
                        _("The ID number %(id)s is on file for another name.")
                        % {"id": id_numbers.mask(person.id_number)},
                    )
                ],
            )
            continue
        kept.append(row)
    return kept


def _changes(record: Record, row: _Row, reader: _RowReader):
    """(values, metadata, persons changed) that differ between ``record`` and ``row``, or None."""
    values = {
        k: row.values.get(k) for k in row.compare if _differs(getattr(record, k), row.values.get(k))
    }
    metadata = {
        k: row.metadata.get(k)
        for k, _index in reader.meta
        if record.metadata.get(k) != row.metadata.get(k)
    }
    persons = bool(row.person) and record.subject_numbers != {row.person[0].number}
    if not values and not metadata and not persons:
        return None
    return values, metadata or None, persons


def _differs(current, new) -> bool:
    if current in (None, "") and new in (None, ""):
        return False
    return current != new


def _drafts(rows, persons, *, fonds, category):
    return [
        RecordDraft(
            fonds=fonds,
            category=category,
            values=dict(r.values),
            metadata=r.metadata,
            persons=[persons[r.person[0].number]] if r.person else [],
        )
        for r in rows
    ]


def _create(rows, persons, *, actor, fonds, category, reader, report):
    """File ``rows`` in one go; when the catalogue refuses one, report it and file the rest."""
    if not rows:
        return
    try:
        create_records(actor=actor, drafts=_drafts(rows, persons, fonds=fonds, category=category))
    except ValidationError:
        good = []
        for row, draft in zip(
            rows, _drafts(rows, persons, fonds=fonds, category=category), strict=True
        ):
            try:
                check_draft(draft, actor=actor)
            except ValidationError as exc:
                _report_errors(report, reader, row.number, _error_list(exc))
                continue
            good.append(row)
        if len(good) == len(rows):
            raise  # the catalogue refused the batch for a reason no single row explains
        _create(
            good, persons, actor=actor, fonds=fonds, category=category, reader=reader, report=report
        )
        return
    report.created += len(rows)


def _dry_batch(new, changed, *, actor, fonds, category, reader, report):
    persons = {r.person[0].number: None for r in new if r.person}
    for row, draft in zip(new, _drafts(new, persons, fonds=fonds, category=category), strict=True):
        draft.persons = []
        try:
            check_draft(draft, actor=actor)
        except ValidationError as exc:
            _report_errors(report, reader, row.number, _error_list(exc))
            continue
        report.created += 1
    for row, record, (values, _metadata, _persons) in changed:
        locked = [k for k in CODE_FIELDS & set(values) if record.state == Record.State.FILED]
        if locked:
            _report_errors(
                report,
                reader,
                row.number,
                [
                    (
                        k,
                        "code_field_locked",
                        _(
                            "Part of the archival code of a filed record; it "
                            "cannot be changed by editing."
                        ),
                    )
                    for k in locked
                ],
            )
            continue
        if actor is not None and not may_write_record(actor, record):
            _report_errors(
                report,
                reader,
                row.number,
                [("", "permission_denied", _("You may not change this record."))],
            )
            continue
        report.updated += 1
        report.changes.append(
            _described(row, record, (values, _metadata, _persons), category, "would_change")
        )


def _error_list(exc) -> list[tuple[str, str, str]]:
    """(target, code, message) for each problem in a catalogue exception."""
    if isinstance(exc, PermissionDenied):
        return [("", "permission_denied", str(exc) or _("Permission denied."))]
    if hasattr(exc, "error_dict"):
        out = []
        for name, errors in exc.error_dict.items():
            target = name if name != "metadata" else ""
            for error in errors:
                for message in error.messages:
                    out.append((target, error.code or "invalid", message))
        return out
    return [
        ("", error.code or "invalid", message)
        for error in exc.error_list
        for message in error.messages
    ]


# --- uploads from the web --------------------------------------------------------------------


def imports_dir() -> Path:
    return Path(settings.DATA_DIR) / "imports"


def receive_upload(*, actor, upload, category: Category, fonds: Fonds) -> ImportJob:
    """Keep an uploaded register under ``DATA_DIR/imports`` and open a job for it.

    The file is checked (size, type, a header row) before the job is written; when anything
    fails the stored copy is removed again, so a failed upload leaves nothing behind.
    """
    name = Path(upload.name or "register").name
    suffix = Path(name).suffix.lower()
    if suffix not in registers.EXTENSIONS:
        raise ValidationError(_("Upload an .xlsx or .csv file."), code="file_type")
    if upload.size > settings.DANGAN_MAX_REGISTER_BYTES:
        raise ValidationError(
            _("The file is larger than %(limit)d MB.")
            % {"limit": settings.DANGAN_MAX_REGISTER_BYTES // (1024 * 1024)},
            code="file_size",
        )
    _check_may_file(actor, category, fonds)
    directory = imports_dir()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{uuid.uuid4().hex}{suffix}"
    try:
        with target.open("wb") as out:
            for chunk in upload.chunks():
                out.write(chunk)
        open_register(target, category=category)
        with transaction.atomic():
            return ImportJob.objects.create(
                created_by=actor,
                original_name=name[:255],
                fonds=fonds,
                category=category,
                stored_file=str(target.relative_to(Path(settings.DATA_DIR))),
            )
    except BaseException:
        target.unlink(missing_ok=True)
        raise


def job_path(job: ImportJob) -> Path:
    return Path(settings.DATA_DIR) / job.stored_file


def set_job_mapping(*, job: ImportJob, mapping: dict) -> ImportJob:
    """Check ``mapping`` against the job's register and keep it for the job's runs."""
    register = open_register(job_path(job), category=job.category, mapping=job.mapping)
    job.mapping = mappings.check(mapping, register.headers, job.category)
    job.save(update_fields=["mapping", "updated_at"])
    return job


def run_job(
    *, actor, job: ImportJob, dry_run: bool, confirm_filed: bool = False, reason: str = ""
) -> ImportReport:
    """Run (or dry-run) an uploaded register's import with the job's mapping; changes to filed
    records only with ``confirm_filed`` and a ``reason`` (see ``import_register``)."""
    report = import_register(
        actor=actor,
        path=job_path(job),
        category=job.category,
        fonds=job.fonds,
        mapping=job.mapping or None,
        dry_run=dry_run,
        job=job,
        confirm_filed=confirm_filed,
        reason=reason,
    )
    report.file = job.original_name
    job.report = report.as_dict()
    job.save(update_fields=["report", "updated_at"])
    return report


def discard_job(*, job: ImportJob) -> None:
    """Forget an upload that was never imported: its stored file and its job."""
    if job.stored_file:
        job_path(job).unlink(missing_ok=True)
    job.delete()
