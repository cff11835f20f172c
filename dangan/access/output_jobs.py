"""The background kinds of the reading room's outputs (``outputs.py``): a list of many records,
or many pages. The builder runs the same service as the page that does it at once, so the
rights are checked again when the work is done, and the output is audited by the worker in the
reader's name."""

from django.utils.translation import gettext_lazy as _

from dangan.jobs.registry import job_kind

from . import services


@job_kind("access.records_xlsx", label=_("List of records (Excel)"), suffix=".xlsx")
def build_records_xlsx(job, out, progress):
    services.output_records(
        actor=job.owner, record_ids=job.params["records"], fmt="xlsx", out=out, progress=progress
    )


@job_kind("access.records_pdf", label=_("List of records (PDF)"), suffix=".pdf")
def build_records_pdf(job, out, progress):
    services.output_records(
        actor=job.owner, record_ids=job.params["records"], fmt="pdf", out=out, progress=progress
    )


@job_kind("access.pages_pdf", label=_("Chosen pages (PDF)"), suffix=".pdf")
def build_pages_pdf(job, out, progress):
    services.output_pages(
        actor=job.owner,
        record_id=job.params["record"],
        page_ids=job.params["pages"],
        out=out,
        progress=progress,
    )
