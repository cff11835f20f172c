"""The statistics' exports as background jobs (``dangan.jobs``): a dashboard table as Excel and
the annual report (档案工作基本情况统计年报) as Excel or PDF. The PDF takes seconds to lay out
and the counts run over every record the user may read, so none of them runs inside the
request: the user follows the job's page and downloads the file there when it is whole.

The numbers are counted when the job runs, over what its owner may read at that moment (the
same selectors as the pages), and the export is audited then, as it was when the page made it.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.jobs.registry import job_kind

from . import exports, selectors
from .annual_report import annual_report

TABLE = "stats.table"
REPORT_XLSX = "stats.annual_report_xlsx"
REPORT_PDF = "stats.annual_report_pdf"
REPORT_KINDS = {"xlsx": REPORT_XLSX, "pdf": REPORT_PDF}


def _check(user) -> None:
    if not selectors.may_see_statistics(user):
        raise ValidationError(_("Statistics are counted over records you may read."))


def _audit(user, detail: dict) -> None:
    record_event(actor=user, action=AuditEvent.Action.EXPORT, object_type="stats", detail=detail)


def unit_name(user) -> str:
    return user.unit.name if user.unit_id else ""


@job_kind(TABLE, label=gettext_lazy("Statistics table as Excel"), suffix=".xlsx")
def build_table(job, out, progress):
    _check(job.owner)
    name = job.params["table"]
    tables = exports.dashboard_tables(selectors.dashboard(job.owner))
    if name not in tables:
        raise ValidationError(_("No such table."))
    table = tables[name]
    total = len(table["rows"])
    progress(0, total)
    exports.table_xlsx(
        title=table["title"],
        heads=table["heads"],
        rows=table["rows"],
        out=out,
        progress=lambda done: progress(done, total),
    )
    progress(total, total)
    _audit(job.owner, {"table": name, "format": "xlsx"})


def _build_report(job, out, progress, fmt: str) -> None:
    _check(job.owner)
    year = int(job.params["year"])
    progress(0, 2)
    report = annual_report(job.owner, year=year)
    progress(1, 2)
    if fmt == "xlsx":
        exports.report_xlsx(report, unit_name=unit_name(job.owner), out=out)
    else:
        out.write(exports.report_pdf(report, unit_name=unit_name(job.owner)))
    progress(2, 2)
    _audit(job.owner, {"report": "annual", "year": year, "format": fmt})


@job_kind(REPORT_XLSX, label=gettext_lazy("Annual statistical report as Excel"), suffix=".xlsx")
def build_report_xlsx(job, out, progress):
    _build_report(job, out, progress, "xlsx")


@job_kind(REPORT_PDF, label=gettext_lazy("Annual statistical report as PDF"), suffix=".pdf")
def build_report_pdf(job, out, progress):
    _build_report(job, out, progress, "pdf")
