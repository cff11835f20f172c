"""Importing an old register into the catalogue: one pipeline for the command line and the web.

read (``registers``) → map headers (``mapping``) → check each row (``rows``) → match rows to
records on file → create new records in batches (``catalogue.services.create_records``, filed,
numbered, audited) and update changed ones (``update_record``).

* Every row is accounted for: created, updated, unchanged, an error (row, column, code,
  message), a duplicate of an earlier row, or a skipped totals row. Blank rows are counted.
* Idempotent: a row's natural key is its legacy number (档案号) within the category, or, when
  the register has no number, the person it concerns. Re-importing the same file changes nothing.
* Batches: each batch of ``BATCH_SIZE`` rows is one transaction. An interrupted import keeps
  the batches that were committed, and re-running the file continues (the rows already in are
  "unchanged"); the ``ImportJob`` row tells how far it got.
* ``dry_run`` runs every check and every look-up and writes nothing.
"""

import time
import uuid
from dataclasses import asdict
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from dangan.accounts.selectors import may_write_record
from dangan.catalogue.models import Category, Fonds, Record
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
from dangan.people.services import resolve_persons

from . import mapping as mappings
from . import readahead, registers
from .models import ImportJob
from .rows import ImportReport, Row, RowError, RowReader, checked_rows, report_errors
from .selectors import classify_files, records_by_key

#: Rows per transaction: large enough that numbering (one counter update per year in a batch)
#: and the audit chain's head cost little per row, small enough to hold the write lock briefly.
BATCH_SIZE = 5000
#: From this size on a register is read and checked in a second process while this one writes
#: (``readahead``); starting that process costs about a second. 1 MB is some 20,000 rows.
READ_AHEAD_BYTES = 1_000_000


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
    rows_only: set[int] | None = None,
    rows_left_out: frozenset[int] = frozenset(),
    propose: bool = False,
    checkpoint: dict | None = None,
) -> ImportReport:
    """Import the register at ``path`` into ``category`` of ``fonds``; see the module docstring.

    ``rows_only`` / ``rows_left_out``: only these rows / all but these (rows the archivist moved
    to another category, see ``run_job``). ``propose``: a dry run lists the rows the classifier
    would put in another category (``report.proposals``).

    ``mapping`` is {header: target} (None: suggested from the headers). ``actor`` None is the
    system (an operator's command). Raises ``registers.RegisterUnreadable`` when the file cannot
    be read at all, ``ValidationError`` for a mapping that does not fit the category and
    ``PermissionDenied`` when ``actor`` may not file records of this category in this fonds.
    Bad rows are not exceptions: they are in the report. ``read_ahead``: read and check the
    rows in a second process (``readahead``); None decides by the file's size.

    A record on file that is already filed (已归档) is never changed silently: its changes are
    listed (``report.changes``, fields before and after) and *held* unless ``confirm_filed`` —
    an archivist's confirmation, with the ``reason`` that goes into each record's history.

    ``checkpoint`` (a background import, ``jobs``): a dict kept in ``job.checkpoint`` after each
    committed batch — the last row committed and what the committed batches did. Given one that
    holds a ``row``, the run goes on after that row: the rows before it are read and checked
    again (what reading finds is the same) but not written, and what their batches did comes
    from the checkpoint, so the report is the whole file's.
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
    reader = RowReader(category=category, fonds=fonds, mapping=mapping, headers=register.headers)
    report.warnings = _mapping_warnings(reader)
    if not dry_run:
        job = _start_job(
            actor=actor, job=job, path=path, category=category, fonds=fonds, mapping=mapping
        )
        report.job = job.pk
    if checkpoint is not None and (dry_run or job is None):
        checkpoint = None
    skip_until = _resume(report, checkpoint) if checkpoint is not None else 0
    if read_ahead is None:
        read_ahead = Path(path).stat().st_size >= READ_AHEAD_BYTES
    rows = (
        readahead.checked_rows(path=path, known=known, reader=reader, report=report)
        if read_ahead
        else checked_rows(register, reader, report)
    )
    proposing: list[tuple[int, str, str]] = []
    try:
        batch: list[Row] = []
        for row in rows:
            if row.number in rows_left_out or (
                rows_only is not None and row.number not in rows_only
            ):
                continue
            if row.number <= skip_until:
                continue  # committed before the run was cut off
            if propose and dry_run and len(proposing) < MAX_PROPOSALS_READ:
                proposing.append(
                    (row.number, row.values.get("title", ""), row.values.get("responsible", ""))
                )
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
                    checkpoint=checkpoint,
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
            checkpoint=checkpoint,
        )
    except BaseException:
        if job is not None and not dry_run:
            ImportJob.objects.filter(pk=job.pk).update(state=ImportJob.State.FAILED)
        raise
    finally:
        rows.close()  # a reading process still running stops
    if proposing:
        report.proposals = _other_categories(proposing, category)
    report.seconds = round(time.monotonic() - started, 3)
    if progress:
        progress(report)
    if job is not None and not dry_run:
        job.state, job.report = ImportJob.State.DONE, report.as_dict()
        job.save(update_fields=["state", "report", "updated_at"])
    return report


#: The most rows a dry run asks the classifier about (the first of the register).
MAX_PROPOSALS_READ = 20_000


def _other_categories(rows: list[tuple[int, str, str]], category) -> list[dict]:
    """The rows (number, title, responsible) the classifier confidently puts in a category
    other than ``category``, with the proposal."""
    found = []
    for start in range(0, len(rows), 2000):
        chunk = rows[start : start + 2000]
        proposals = classify_files([f"{title} {responsible}" for _n, title, responsible in chunk])
        for (number, title, _r), proposal in zip(chunk, proposals, strict=True):
            if proposal["category"] and proposal["category"] != category.code:
                found.append({"row": number, "title": title, **proposal})
    return found


def _mapping_for(mapping: dict, category) -> dict:
    """``mapping`` with the columns that go to a field ``category`` lacks not imported."""
    valid = mappings.targets(category)
    return {h: (t if t in valid else None) for h, t in (mapping or {}).items()}


#: What a checkpoint keeps of the report besides its written errors (``import_register``).
CHECKPOINT_COUNTS = ("created", "updated", "unchanged", "held")


def _resume(report: ImportReport, checkpoint: dict) -> int:
    """Put what the committed batches did into ``report``; the last row they committed (0:
    from the start). Starts ``checkpoint`` afresh when it holds none."""
    if not checkpoint.get("row"):
        checkpoint.clear()
        checkpoint.update(row=0, errors=[], changes=[], **dict.fromkeys(CHECKPOINT_COUNTS, 0))
        return 0
    for name in CHECKPOINT_COUNTS:
        setattr(report, name, checkpoint.get(name, 0))
    report.changes = list(checkpoint.get("changes", []))
    report.errors.extend(RowError(**error) for error in checkpoint.get("errors", []))
    return checkpoint["row"]


def _check_may_file(actor, category, fonds):
    if actor is None:
        return
    probe = Record(fonds=fonds, category=category, unit=None)
    if not may_write_record(actor, probe):
        raise PermissionDenied(
            _("You may not file records of %(category)s in fonds %(fonds)s.")
            % {"category": category.name, "fonds": fonds.code}
        )


def _mapping_warnings(reader: RowReader) -> list[str]:
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


def _confirmation(actor, confirm_filed: bool, reason: str) -> str | None:
    """The reason of an archivist's confirmation of changes to filed records, or None."""
    if not confirm_filed:
        return None
    if actor is not None and not getattr(actor, "may_edit_records", False):
        raise PermissionDenied(_("Only an archivist confirms changes to filed records."))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError(
            _("Give the reason for changing filed records."), code="reason_missing"
        )
    return reason


def _run_batch(
    rows: list[Row],
    *,
    actor,
    category,
    fonds,
    reader,
    report,
    dry_run,
    job,
    confirm=None,
    checkpoint=None,
):
    if not rows:
        return
    last_row, errors_before = rows[-1].number, len(report.errors)
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
                report_errors(report, reader, row.number, _error_list(exc))
                continue
            report.updated += 1
            report.changes.append(_described(row, record, change, category, "changed"))
        if job is not None:
            job.rows_done = report.rows
            done = {"rows_done": report.rows}
            if checkpoint is not None:
                checkpoint["errors"].extend(asdict(e) for e in report.errors[errors_before:])
                checkpoint["changes"] = report.changes
                checkpoint["row"] = last_row
                checkpoint.update({n: getattr(report, n) for n in CHECKPOINT_COUNTS})
                done["checkpoint"] = checkpoint
            ImportJob.objects.filter(pk=job.pk).update(**done)


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


def _check_persons_on_file(rows, reader, report) -> list[Row]:
    """Rows whose ID number is on file under another name are errors (one of the two is wrong)."""
    on_file = persons_by_id_number({r.person[0].number for r in rows if r.person})
    kept = []
    for row in rows:
        person = on_file.get(row.person[0].number) if row.person else None
        if person is not None and fold(person.name) != fold(row.person[1]):
            report_errors(
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


def _changes(record: Record, row: Row, reader: RowReader):
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
                report_errors(report, reader, row.number, _error_list(exc))
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
            report_errors(report, reader, row.number, _error_list(exc))
            continue
        report.created += 1
    for row, record, (values, _metadata, _persons) in changed:
        locked = [k for k in CODE_FIELDS & set(values) if record.state == Record.State.FILED]
        if locked:
            report_errors(
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
            report_errors(
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
    *,
    actor,
    job: ImportJob,
    dry_run: bool,
    confirm_filed: bool = False,
    reason: str = "",
    moves: dict[int, str] | None = None,
    progress=None,
    batch_size: int = BATCH_SIZE,
    checkpoint: dict | None = None,
) -> ImportReport:
    """Run (or dry-run) an uploaded register's import with the job's mapping; changes to filed
    records only with ``confirm_filed`` and a ``reason`` (see ``import_register``, which also
    takes ``progress``, ``batch_size`` and ``checkpoint``: the worker's run, ``background``).

    ``moves`` {row number: category code}: rows the archivist moves to the category the last
    dry run proposed for them (only those: a move the dry run did not propose is ignored). They
    are imported there, each category as an import of its own, and left out of this one."""
    proposed = {(p["row"], p["category"]) for p in (job.report or {}).get("proposals", [])}
    moves = {row: code for row, code in (moves or {}).items() if (row, code) in proposed}
    if dry_run:
        moves = {}
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
        rows_left_out=frozenset(moves),
        propose=dry_run,
        progress=progress,
        batch_size=batch_size,
        checkpoint=checkpoint,
    )
    for code in sorted(set(moves.values())):
        other = Category.objects.get(code=code)
        numbers = {row for row, c in moves.items() if c == code}
        moved = import_register(
            actor=actor,
            path=job_path(job),
            category=other,
            fonds=job.fonds,
            mapping=_mapping_for(job.mapping, other),
            rows_only=numbers,
            confirm_filed=confirm_filed,
            reason=reason,
        )
        report.moved.append(
            {
                "category": code,
                "rows": sorted(numbers),
                "created": moved.created,
                "updated": moved.updated,
                "errors": len(moved.errors),
                "job": moved.job,
            }
        )
    report.file = job.original_name
    job.report = report.as_dict()
    job.save(update_fields=["report", "updated_at"])
    return report


def register_rows(job: ImportJob) -> int:
    """The rows under the header of an uploaded register (blank and totals rows too): from its
    last dry run when that ran with the job's mapping, else counted (a quick read)."""
    last = job.report or {}
    if last.get("dry_run") and last.get("mapping") == job.mapping:
        return last.get("rows", 0) + last.get("blank_rows", 0) + len(last.get("skipped", []))
    register = open_register(job_path(job), category=job.category, mapping=job.mapping)
    return sum(1 for _row in register.rows())


def in_background(job: ImportJob) -> bool:
    """Whether the worker is importing ``job`` now (or will: queued)."""
    return (
        job.background_id is not None
        and job.state in (ImportJob.State.QUEUED, ImportJob.State.RUNNING)
        and not job.background.is_finished
    )


def import_in_background(
    *,
    actor,
    job: ImportJob,
    rows: int,
    confirm_filed: bool = False,
    reason: str = "",
    moves: dict[int, str] | None = None,
) -> ImportJob:
    """Have the worker import an uploaded register (``background``): a register of more than
    ``DANGAN_IMPORT_BACKGROUND_ROWS`` rows on the web. What would refuse the import (the
    confirmation without a reason, the right to file) is checked here, before it is queued."""
    from dangan.jobs.services import start_job

    from .background import KIND

    confirm = _confirmation(actor, confirm_filed, reason)
    _check_may_file(actor, job.category, job.fonds)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if in_background(job):
            raise ValidationError(
                _("This register is being imported already."), code="import_running"
            )
        job.background = start_job(
            kind=KIND,
            owner=actor,
            title=_("Import of %(file)s into %(category)s")
            % {"file": job.original_name, "category": job.category.name},
            params={
                "import": job.pk,
                "rows": rows,
                "confirm_filed": confirm is not None,
                "reason": confirm or "",
                # rows moved to the category the dry run proposed (JSON keys are text)
                "moves": {str(row): code for row, code in (moves or {}).items()},
            },
        )
        job.state, job.rows_done, job.checkpoint = ImportJob.State.QUEUED, 0, {}
        job.save(update_fields=["background", "state", "rows_done", "checkpoint", "updated_at"])
    return job


def discard_job(*, job: ImportJob) -> None:
    """Forget an upload that was never imported: its stored file and its job."""
    if job.stored_file:
        job_path(job).unlink(missing_ok=True)
    job.delete()
