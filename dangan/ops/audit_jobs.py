"""The audit trail's export as a background job (``dangan.jobs``).

Audit stands left of jobs in the ground layer (jobs audits its own work), so the export's job
kind is registered here, above both, and the trail's page reaches it through the hook
``audit.exports.start_trail_export``, answered in ``OpsConfig.ready``. The events are read
with the owner's duty when the job runs (the security auditor's alone), row by row, and the
export is audited then, with its filters and the rows it holds.
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from dangan.audit import exports
from dangan.audit.models import AuditEvent
from dangan.audit.selectors import audit_trail
from dangan.audit.services import record_event
from dangan.jobs.registry import job_kind
from dangan.jobs.services import start_job

KINDS = {"csv": "audit.trail_csv", "xlsx": "audit.trail_xlsx"}


def _build(job, out, progress, fmt: str) -> None:
    filters = exports.filters_from_params(job.params["filters"])
    try:
        events = audit_trail(job.owner, **filters)
    except PermissionDenied:
        raise ValidationError(_("The audit trail is the security auditor's alone.")) from None
    total = events.count()
    progress(0, total)
    count = exports.write_trail(
        events, fmt=fmt, out=out, progress=lambda done: progress(done, total)
    )
    progress(count, count)
    record_event(
        actor=job.owner,
        action=AuditEvent.Action.EXPORT,
        object_type="audit.auditevent",
        detail={"filters": job.params["filters"], "rows": count, "format": fmt},
    )


@job_kind(KINDS["csv"], label=gettext_lazy("Audit trail as CSV"), suffix=".csv")
def build_trail_csv(job, out, progress):
    _build(job, out, progress, "csv")


@job_kind(KINDS["xlsx"], label=gettext_lazy("Audit trail as Excel"), suffix=".xlsx")
def build_trail_xlsx(job, out, progress):
    _build(job, out, progress, "xlsx")


def start_trail_export(*, owner, filters: dict, fmt: str):
    """Queue the export of the trail selected by ``filters`` (JSON) as ``fmt``; the job."""
    return start_job(
        kind=KINDS[fmt],
        owner=owner,
        title=f"audit-trail-{timezone.localtime():%Y%m%d-%H%M}",
        params={"filters": filters},
    )
