"""The dashboard and the annual report: thin views over ``selectors`` and ``annual_report``;
their exports start background jobs (``jobs``)."""

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from dangan.jobs.services import start_job

from . import exports, jobs, selectors
from .annual_report import annual_report


def reader_required(view):
    """Anyone who reads records sees the numbers of what they read; the three administrators
    and citizens read none."""

    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if not selectors.may_see_statistics(request.user):
            raise PermissionDenied(_("Statistics are counted over records you may read."))
        return view(request, *args, **kwargs)

    return wrapped


@reader_required
def dashboard(request):
    data = selectors.dashboard(request.user)
    return render(
        request,
        "stats/dashboard.html",
        {"data": data, "tables": exports.dashboard_tables(data)},
    )


@reader_required
@require_POST
def table_export(request, name):
    """Start the table's Excel export as a background job; to the job's page."""
    if name not in exports.TABLE_NAMES:
        raise Http404(_("No such table."))
    job = start_job(
        kind=jobs.TABLE,
        owner=request.user,
        title=f"dangan-{name}-{timezone.localdate():%Y%m%d}",
        params={"table": name},
    )
    return redirect(job)


def _year(request) -> int:
    try:
        return int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        return timezone.localdate().year


@reader_required
def report(request):
    year = _year(request)
    this_year = timezone.localdate().year
    return render(
        request,
        "stats/report.html",
        {
            "report": annual_report(request.user, year=year),
            "year": year,
            "years": range(this_year, this_year - 15, -1),
            "unit_name": jobs.unit_name(request.user),
        },
    )


@reader_required
@require_POST
def report_export(request, year, fmt):
    """Start the annual report's Excel or PDF as a background job; to the job's page."""
    if fmt not in jobs.REPORT_KINDS:
        raise Http404(_("No such format."))
    job = start_job(
        kind=jobs.REPORT_KINDS[fmt],
        owner=request.user,
        title=f"dangan-annual-report-{year}",
        params={"year": year},
    )
    return redirect(job)


@reader_required
def province(request):
    """全省统计: holdings per county, for a provincial office (each sees what its grants open)."""
    rows = selectors.by_county(request.user)
    totals = {
        key: sum(r[key] for r in rows) for key in ("records", "permanent", "this_year", "pages")
    }
    return render(request, "stats/province.html", {"rows": rows, "totals": totals})
