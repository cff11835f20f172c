"""The integrity pages: the last ``dangan verify`` runs, the sealed day roots (JSON and PDF), and
the kept stage check reports. Runs and seals come from the commands, or from the page's buttons,
which start the same checks as background jobs (``background``).

The archivist and the three administrators (三员) may look: findings name records by number
only, and a record's archival code and link are shown only for records the user may read
(``visible_records``), so nobody learns of a record outside their grants.
"""

import functools
import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.selectors import visible_records
from dangan.jobs.models import Job
from dangan.jobs.selectors import jobs_for
from dangan.jobs.services import start_job
from dangan.security.permissions import has_permission

from . import ledger
from .background import CHECKS
from .models import CheckReport, DayRoot, VerifyRun
from .stages import FILING_SUBJECT, PRESERVATION_SUBJECT, TRANSFER_SUBJECT

STAGE_SUBJECTS = (FILING_SUBJECT, PRESERVATION_SUBJECT, TRANSFER_SUBJECT)


def may_view_integrity(user) -> bool:
    """The ledger, its checks and the four-property reports: the archivist and the three
    administrators (who read no records, only findings)."""
    return has_permission(user, "integrity.view")


def viewer_required(view):
    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not may_view_integrity(request.user):
            raise PermissionDenied(
                _("The integrity pages are for the archivist and the administrators.")
            )
        return view(request, *args, **kwargs)

    return wrapped


def kind_labels() -> dict:
    """The kinds of finding of ``dangan verify``, as the page names them."""
    return {
        "record": _("Record"),
        "person": _("Person"),
        "link": _("Record–person link"),
        "blob": _("Stored file"),
        "audit": _("Audit trail"),
        "ledger": _("Ledger"),
    }


def _named(user, problems: list) -> list:
    """Each finding with the record it names, when the user may read that record, and its kind
    in words (runs kept before findings had kinds get theirs from the look that made them)."""
    from .verify import KIND_OF_CHECK

    labels = kind_labels()
    ids = {
        int(p["subject"].split(":")[1])
        for p in problems
        if p.get("subject", "").startswith("record:") and p["subject"].split(":")[1].isdigit()
    }
    readable = dict(visible_records(user).filter(pk__in=ids).values_list("pk", "archival_code"))
    rows = []
    for p in problems:
        pk = p["subject"].split(":")[1] if p.get("subject", "").startswith("record:") else ""
        record = int(pk) if pk.isdigit() and int(pk) in readable else None
        kind = p.get("kind") or KIND_OF_CHECK.get(p.get("check"), "")
        others = [o for o in p.get("objects", []) if o != p.get("subject")]
        rows.append(
            {
                **p,
                "kind": kind,
                "kind_label": labels.get(kind, kind),
                "others": others,
                "record": record,
                "code": readable.get(record) if record else None,
            }
        )
    return rows


@viewer_required
def verify_runs(request):
    runs = list(VerifyRun.objects.all()[:30])
    latest = runs[0] if runs else None
    return render(
        request,
        "integrity/overview.html",
        {
            "runs": runs,
            "latest": latest,
            "problems": _named(request.user, latest.problems[:500]) if latest else [],
            "roots": DayRoot.objects.all()[:60],
            "reports": CheckReport.objects.filter(subject_type__in=STAGE_SUBJECTS)[:30],
            "checks": [(what, title) for what, (_kind, title) in CHECKS.items()],
            "running": jobs_for(request.user).filter(
                kind__in=[kind for kind, _title in CHECKS.values()],
                state__in=[Job.State.QUEUED, Job.State.RUNNING],
            ),
        },
    )


@viewer_required
@require_POST
def start_check(request, what):
    """A check started with a button: it runs in the worker; the job's page follows it."""
    if what not in CHECKS:
        raise Http404
    kind, title = CHECKS[what]
    job = start_job(kind=kind, owner=request.user, title=str(title))
    return redirect(job.get_absolute_url())


@viewer_required
def day_root(request, day, fmt):
    root = get_object_or_404(DayRoot, day=day)
    record_event(
        actor=request.user,
        action=AuditEvent.Action.EXPORT,
        obj=root,
        detail={"format": fmt},
    )
    if fmt == "pdf":
        response = HttpResponse(ledger.day_pdf(root), content_type="application/pdf")
    else:
        response = HttpResponse(
            json.dumps(ledger.day_document(root), ensure_ascii=False, indent=1),
            content_type="application/json; charset=utf-8",
        )
    response["Content-Disposition"] = f'attachment; filename="ledger-{root.day}.{fmt}"'
    return response


@viewer_required
def stage_report(request, pk):
    report = get_object_or_404(
        CheckReport.objects.prefetch_related("results"), pk=pk, subject_type__in=STAGE_SUBJECTS
    )
    return render(request, "integrity/stage_report.html", {"report": report})
