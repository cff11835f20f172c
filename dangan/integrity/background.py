"""The checks started from the integrity page, as background jobs (``dangan.jobs``).

A check reads every record, file and ledger entry: minutes on a county's archive. Started with
a button, it runs in the worker; the user follows it on the job's page and downloads its list
of findings as a spreadsheet, while the run itself is kept as the command line keeps it (a
``VerifyRun`` or ``CheckReport`` on the integrity page). ``dangan verify`` and ``dangan check
--stage`` do the same from a terminal or a timer.
"""

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangan.jobs.registry import job_kind
from dangan.spreadsheets import Spreadsheet

from . import stages
from .models import CheckReport

#: What the integrity page offers to start: the job's kind and the title it is shown under.
CHECKS = {
    "verify": ("integrity.verify", gettext_lazy("Verification of the ledger and the store")),
    "filing": (
        "integrity.filing",
        gettext_lazy("Filing-stage checks of the records filed since the last check"),
    ),
    "preservation": (
        "integrity.preservation",
        gettext_lazy("Preservation-stage checks of every record with content"),
    ),
}


@job_kind("integrity.verify", label=CHECKS["verify"][1], suffix=".xlsx")
def build_verification(job, out, progress):
    """``dangan verify`` (seals the complete days first), its findings as a spreadsheet."""
    from .verify import KIND_OF_CHECK, verify

    report, run = verify(actor=job.owner, progress=progress)
    sheet = Spreadsheet(_("Verification"), widths=[16, 28, 28, 80], freeze="A4")
    sheet.append([str(CHECKS["verify"][1])], bold=True, size=14)
    sheet.append(
        [
            _("Everything matches.")
            if report.passed
            else _("%(count)d problems found.") % {"count": len(report.problems)},
            _("%(entries)s ledger entries, %(records)s records, %(blobs)s files")
            % {
                "entries": report.counts.get("entries", 0),
                "records": report.counts.get("records", 0),
                "blobs": report.counts.get("blobs", 0),
            },
        ]
    )
    sheet.append([_("Kind"), _("Object"), _("Also concerns"), _("Finding")], bold=True)
    for problem in report.problems:
        others = [o for o in problem.get("objects", []) if o != problem["subject"]]
        sheet.append(
            [
                problem.get("kind") or KIND_OF_CHECK.get(problem["check"], problem["check"]),
                problem["subject"],
                ", ".join(others),
                problem["message"],
            ]
        )
    sheet.save(out)


@job_kind("integrity.filing", label=CHECKS["filing"][1], suffix=".xlsx")
def build_filing_checks(job, out, progress):
    """``dangan check --stage filing``: the records filed since the last filing run."""
    reports = stages.check_filing(actor=job.owner, progress=progress)
    _reports_sheet(CHECKS["filing"][1], reports).save(out)


@job_kind("integrity.preservation", label=CHECKS["preservation"][1], suffix=".xlsx")
def build_preservation_checks(job, out, progress):
    """``dangan check --stage preservation``: every filed record with content."""
    reports = stages.check_preservation(actor=job.owner, progress=progress)
    _reports_sheet(CHECKS["preservation"][1], reports).save(out)


def _reports_sheet(title, reports: list[CheckReport]) -> Spreadsheet:
    sheet = Spreadsheet(_("Four-property checks"), widths=[10, 50, 10, 10, 12, 40], freeze="A3")
    sheet.append([str(title)], bold=True, size=14)
    sheet.append(
        [_("Report"), _("Subject"), _("Items"), _("Files"), _("Outcome"), _("Failed checks")],
        bold=True,
    )
    for report in reports:
        failed = report.failed_ids
        sheet.append(
            [
                report.pk,
                report.subject_repr,
                report.items,
                report.files,
                _("Passed") if report.passed else _("Failed"),
                " ".join(failed),
            ]
        )
    if not reports:
        sheet.append(["", _("Nothing to check: no record filed since the last run.")])
    return sheet
