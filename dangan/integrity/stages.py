"""四性检测 in every stage: the DA/T 70 engine (``checks``) over records at filing, over transfer
packages, and over the store for long-term preservation; each batch kept as a ``CheckReport``.

* **filing** (归档, ids ``GD-…``): the records filed since the last filing run — the ledger's
  ``record.filed`` entries after the last run's high-water mark — or the records named;
* **transfer** (移交, ids ``YJ-…``): a transfer package, through ``appraisal.transfer``;
* **preservation** (长期保存, ids ``BC-…``): every filed record with content, in batches,
  before storage and periodically.

What was declared is what the archive holds (the blob rows' digests, sizes and formats); the
bytes are read from the store and compared, so a report shows both that the metadata is
complete and that the content is still the content that was filed.
"""

from django.db.models import Max

from dangan.catalogue.models import Record
from dangan.catalogue.services import REQUIRED_AT_FILING
from dangan.core.hooks import Hook

from . import checks, ledger
from .models import CheckReport, LedgerEntry
from .services import keep_report

#: DA/T 70 stage codes: the engine's ids are the hand-over stage's (``YJ``).
PREFIX = {
    CheckReport.Stage.FILING: "GD",
    CheckReport.Stage.HANDOVER: "YJ",
    CheckReport.Stage.PRESERVATION: "BC",
}
FILING_SUBJECT = "ledger.filing"
PRESERVATION_SUBJECT = "catalogue.records"
TRANSFER_SUBJECT = "transfer.package"

#: ``(source) -> (Run, reading)``: the transfer-stage checks over a transfer package, nothing
#: written (provided by dangan.appraisal, which reads the packages).
transfer_checks = Hook("the checks of a transfer package")


def persons_errors(records) -> dict:
    """``{record id: [error, …]}``: who each record is about, against the ledger — its links and
    its persons' ID numbers, names, sexes and birth dates as its latest entry and theirs hold
    them (DA/T 70 authenticity, checked with the metadata at filing and in preservation)."""
    from django.utils.translation import gettext as _

    from dangan.catalogue.services import PERSONS_PART
    from dangan.people.digests import links_digest, links_of, person_digest
    from dangan.people.models import Person

    ids = [r.pk for r in records]
    links, link_ids = links_of(ids)
    person_ids = {pid for persons in link_ids.values() for pid, _role in persons}
    subjects = [f"record:{pk}" for pk in ids] + [f"person:{pk}" for pk in person_ids]
    last = (
        LedgerEntry.objects.filter(subject__in=subjects)
        .values("subject")
        .annotate(last=Max("seq"))
        .values("last")
    )
    held = dict(LedgerEntry.objects.filter(seq__in=last).values_list("subject", "digest"))
    changed_persons = {
        p.pk
        for p in Person.objects.filter(pk__in=person_ids)
        if held.get(f"person:{p.pk}") != person_digest(p)
    }
    errors: dict = {}
    for pk in ids:
        digest = held.get(f"record:{pk}", "")
        found = []
        if PERSONS_PART in digest and digest.partition(PERSONS_PART)[2] != links_digest(
            links.get(pk, [])
        ):
            found.append(_("who it is about differs from the ledger"))
        for pid, _role in link_ids.get(pk, []):
            if pid in changed_persons:
                found.append(_("person:%(id)d differs from the ledger") % {"id": pid})
        if found:
            errors[pk] = found
    return errors


def _item_errors(record: Record, persons=()) -> list[str]:
    from django.utils.translation import gettext as _

    errors = [
        _("%(field)s is missing") % {"field": Record._meta.get_field(name).verbose_name}
        for name in REQUIRED_AT_FILING
        if getattr(record, name) in (None, "")
    ]
    if not record.archival_code:
        errors.append(_("no archival code"))
    return errors + list(persons)


def submission_of(records: list, *, label: str, verify_sm3=False) -> checks.Submission:
    """Records and their stored files as the engine sees them; records without files are
    left out by the callers (paper records have nothing to check for fixity or format)."""
    from dangan.content.models import Page
    from dangan.content.stores import get_store

    store = get_store()
    position = {record.pk: n for n, record in enumerate(records, start=1)}
    files = []
    for page in (
        Page.objects.filter(record__in=records)
        .select_related("blob")
        .order_by("record_id", "role", "position")
    ):
        blob = page.blob
        path = store.path(blob.key) if hasattr(store, "path") else None
        original = page.role == Page.Role.ORIGINAL
        files.append(
            checks.FileEntry(
                name=f"{position[page.record_id]}/{page.position} {page.filename}",
                declared_sha256=blob.sha256,
                declared_sm3=blob.sm3,
                declared_size=blob.size,
                open=lambda key=blob.key: store.open(key),
                size=blob.size,
                item=position[page.record_id],
                page=page.position if original else None,
                path=str(path) if path else None,
                format_name=blob.format_name,
            )
        )

    def items():
        persons = persons_errors(records)
        return [
            checks.ItemEntry(
                position=position[r.pk],
                label=r.archival_code or f"record:{r.pk}",
                metadata_errors=_item_errors(r, persons.get(r.pk, ())),
            )
            for r in records
        ]

    return checks.Submission(
        label=label,
        items=items,
        files=files,
        declared_items=len(records),
        declared_bytes=sum(f.declared_size for f in files),
        verify_sm3=verify_sm3,
    )


def relabel(run: checks.Run, stage: str) -> checks.Run:
    for outcome in run.outcomes:
        outcome.check_id = PREFIX[stage] + outcome.check_id[2:]
    return run


def _with_content(ids) -> list:
    return list(
        Record.objects.filter(pk__in=ids, pages__isnull=False)
        .distinct()
        .select_related("fonds", "category")
        .order_by("pk")
    )


def _batches(records: list, size: int):
    for start in range(0, len(records), size):
        yield records[start : start + size]


def check_filing(
    *, actor, record_ids=None, batch=5000, verify_sm3=False, progress=None
) -> list[CheckReport]:
    """The filing-stage checks over the records filed since the last filing run (or those
    given); one report per batch. The run's ledger range is the report's identifier, so the
    next run starts where this one ended. ``progress(done, total)``: records checked."""
    last = (
        CheckReport.objects.filter(subject_type=FILING_SUBJECT)
        .order_by("-id")
        .values_list("subject_id", flat=True)
        .first()
    )
    since = int(last.split("-")[1]) if last and "-" in last else 0
    top = LedgerEntry.objects.aggregate(top=Max("seq"))["top"] or 0
    if record_ids is None:
        subjects = LedgerEntry.objects.filter(
            kind=ledger.RECORD_FILED, seq__gt=since, seq__lte=top
        ).values_list("subject", flat=True)
        record_ids = {int(s.split(":")[1]) for s in subjects}
    records = _with_content(record_ids)
    reports = []
    step = progress or (lambda done, total: None)
    step(0, len(records))
    for n, part in enumerate(_batches(records, batch), start=1):
        run = relabel(
            checks.run_checks(
                submission_of(part, label=f"filing {since + 1}-{top} #{n}", verify_sm3=verify_sm3)
            ),
            CheckReport.Stage.FILING,
        )
        reports.append(
            keep_report(
                actor=actor,
                stage=CheckReport.Stage.FILING,
                subject_type=FILING_SUBJECT,
                subject_id=f"{since + 1}-{top}",
                subject_repr=f"{part[0].archival_code or part[0].pk} … "
                f"{part[-1].archival_code or part[-1].pk} ({len(part)})",
                run=run,
            )
        )
        step(min(n * batch, len(records)), len(records))
    if not reports and top > since:  # nothing with content: still move the mark on
        run = checks.Run(outcomes=[], items=0, files=0, bytes=0, seconds=0.0)
        reports.append(
            keep_report(
                actor=actor,
                stage=CheckReport.Stage.FILING,
                subject_type=FILING_SUBJECT,
                subject_id=f"{since + 1}-{top}",
                subject_repr=f"ledger #{since + 1}–#{top} (0)",
                run=run,
            )
        )
    return reports


def check_preservation(*, actor, batch=5000, verify_sm3=False, progress=None) -> list[CheckReport]:
    """The preservation-stage checks over every filed record with content, batch by batch.
    ``progress(done, total)``: records checked."""
    ids = Record.objects.filter(state=Record.State.FILED).values_list("pk", flat=True)
    records = _with_content(ids)
    reports = []
    step = progress or (lambda done, total: None)
    step(0, len(records))
    for n, part in enumerate(_batches(records, batch), start=1):
        label = f"{part[0].archival_code or part[0].pk} … {part[-1].archival_code or part[-1].pk}"
        run = relabel(
            checks.run_checks(submission_of(part, label=label, verify_sm3=verify_sm3)),
            CheckReport.Stage.PRESERVATION,
        )
        reports.append(
            keep_report(
                actor=actor,
                stage=CheckReport.Stage.PRESERVATION,
                subject_type=PRESERVATION_SUBJECT,
                subject_id=f"{part[0].pk}-{part[-1].pk}",
                subject_repr=f"{label} ({len(part)})",
                run=run,
            )
        )
        step(min(n * batch, len(records)), len(records))
    return reports


def check_transfer(*, actor, source) -> CheckReport:
    """The transfer-stage checks over a transfer package (``appraisal.transfer``)."""
    from pathlib import Path

    run, _reading = transfer_checks(source)
    return keep_report(
        actor=actor,
        stage=CheckReport.Stage.HANDOVER,
        subject_type=TRANSFER_SUBJECT,
        subject_id=Path(source).name[:64],
        subject_repr=str(source),
        run=relabel(run, CheckReport.Stage.HANDOVER),
    )
