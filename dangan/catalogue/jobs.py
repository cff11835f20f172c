"""The record list's Excel export as a background job (``dangan.jobs``): a selection of a
million records takes minutes to write, so it never runs inside the request. The user follows
its progress on the job's page and downloads the file there when it is whole.

The records are chosen when the job runs, by the owner's rights at that moment
(``selectors.browse_records``), and the export is audited then, with the rows it holds."""

from django.utils.translation import gettext_lazy

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.jobs.registry import job_kind

from . import exports, selectors

REGISTER = "catalogue.register"


@job_kind(REGISTER, label=gettext_lazy("Record list as Excel"), suffix=".xlsx")
def build_register(job, out, progress):
    filters = job.params["filters"]
    # ``shown``: the filters as the audit trail keeps them (a search by ID number masked)
    records = selectors.browse_records(job.owner, **filters)
    total = records.order_by().count()
    progress(0, total)
    _out, count = exports.write_register(
        records, out=out, progress=lambda done: progress(done, total)
    )
    progress(count, count)
    record_event(
        actor=job.owner,
        action=AuditEvent.Action.EXPORT,
        object_type="catalogue.record",
        detail={"filters": job.params["shown"], "rows": count, "format": "xlsx"},
    )
