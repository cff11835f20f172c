"""A large register imported on the web runs in the worker, as a background job (``jobs``).

The page starts it (``services.import_in_background``) once the clerk has checked the mapping
and pressed *Import*; the job's progress is the rows read of the register's rows, its result
the import's report as JSON (the object ``dangan import-catalogue --json`` prints), and its page
links to the import's own outcome page. A job cut off with its worker is run again by the
worker's sweep (``jobs.services.retry_stopped``) and goes on from the import's checkpoint.
"""

import json

from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from dangan.jobs.registry import job_kind

from . import services
from .models import ImportJob

KIND = "intake.import"
#: Rows per transaction in the worker: smaller than the command line's, so that the page's
#: progress and the checkpoint move every few seconds.
BATCH_SIZE = 2000


def _page(job) -> str | None:
    pk = job.params.get("import")
    return reverse("intake:import-result", args=[pk]) if pk else None


@job_kind(KIND, label=_("Register import"), suffix=".json", page=_page)
def build_import(job, out, progress):
    """Import the register of the ``ImportJob`` ``job.params["import"]`` as ``job.owner``."""
    params = job.params
    imported = ImportJob.objects.select_related("category", "fonds").get(pk=params["import"])
    # A second attempt of the same job was cut off with its worker: go on from the checkpoint.
    resume = imported.background_id == job.pk and job.attempts > 1
    checkpoint = dict(imported.checkpoint) if resume else {}
    total = params.get("rows")

    def report_progress(report):
        progress(report.rows + report.blank_rows + len(report.skipped), total)

    try:
        report = services.run_job(
            actor=job.owner,
            job=imported,
            dry_run=False,
            confirm_filed=bool(params.get("confirm_filed")),
            reason=params.get("reason", ""),
            moves={int(row): code for row, code in params.get("moves", {}).items()},
            progress=report_progress,
            batch_size=BATCH_SIZE,
            checkpoint=checkpoint,
        )
    except PermissionDenied as error:
        raise ValidationError(str(error)) from error
    imported.checkpoint = {}
    imported.save(update_fields=["checkpoint", "updated_at"])
    out.write(json.dumps(report.as_dict(), ensure_ascii=False, default=str).encode())
