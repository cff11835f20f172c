"""A compilation's export as a background job (``dangan.jobs``): a chronicle of a thousand
entries takes a minute to typeset, so it never runs inside the request. The user follows its
progress on the job's page and downloads the file there when it is whole."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangan.jobs.registry import job_kind

from . import exports, selectors, services
from .models import Compilation


def _build(job, out, progress, format: str) -> None:
    try:
        compilation = selectors.compilations_for(job.owner).get(pk=job.params["compilation"])
    except Compilation.DoesNotExist:
        raise ValidationError(_("This compilation is no longer there for you.")) from None
    content = selectors.export_content(compilation)
    exports.WRITERS[format](content, out, progress)
    services.record_export(actor=job.owner, compilation=compilation, format=format, content=content)


@job_kind("compilation.pdf", label=gettext_lazy("Compilation as PDF"), suffix=".pdf")
def build_pdf(job, out, progress):
    _build(job, out, progress, "pdf")


@job_kind("compilation.docx", label=gettext_lazy("Compilation as DOCX"), suffix=".docx")
def build_docx(job, out, progress):
    _build(job, out, progress, "docx")


@job_kind("compilation.xlsx", label=gettext_lazy("Compilation as Excel"), suffix=".xlsx")
def build_xlsx(job, out, progress):
    _build(job, out, progress, "xlsx")
