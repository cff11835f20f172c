"""The dashboard and the annual report: thin views over ``selectors`` and ``annual_report``."""

import functools

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan import spreadsheets
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event

from . import exports, selectors
from .annual_report import annual_report

XLSX = spreadsheets.CONTENT_TYPE


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


def _download(content: bytes, *, name: str, content_type: str, user, detail: dict):
    record_event(actor=user, action=AuditEvent.Action.EXPORT, object_type="stats", detail=detail)
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@reader_required
def dashboard(request):
    data = selectors.dashboard(request.user)
    return render(
        request,
        "stats/dashboard.html",
        {"data": data, "tables": exports.dashboard_tables(data)},
    )


@reader_required
def table_export(request, name):
    tables = exports.dashboard_tables(selectors.dashboard(request.user))
    if name not in tables:
        raise Http404(_("No such table."))
    table = tables[name]
    return _download(
        exports.table_xlsx(title=table["title"], heads=table["heads"], rows=table["rows"]),
        name=f"dangan-{name}-{timezone.localdate():%Y%m%d}.xlsx",
        content_type=XLSX,
        user=request.user,
        detail={"table": name, "format": "xlsx"},
    )


def _year(request) -> int:
    try:
        return int(request.GET.get("year") or timezone.localdate().year)
    except ValueError:
        return timezone.localdate().year


def _unit_name(user) -> str:
    return user.unit.name if user.unit_id else ""


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
            "unit_name": _unit_name(request.user),
        },
    )


@reader_required
def report_export(request, year, fmt):
    if fmt not in ("xlsx", "pdf"):
        raise Http404(_("No such format."))
    data = annual_report(request.user, year=year)
    if fmt == "xlsx":
        content, content_type = exports.report_xlsx(data, unit_name=_unit_name(request.user)), XLSX
    else:
        content = exports.report_pdf(data, unit_name=_unit_name(request.user))
        content_type = "application/pdf"
    return _download(
        content,
        name=f"dangan-annual-report-{year}.{fmt}",
        content_type=content_type,
        user=request.user,
        detail={"report": "annual", "year": year, "format": fmt},
    )


@reader_required
def province(request):
    """全省统计: holdings per county, for a provincial office (each sees what its grants open)."""
    rows = selectors.by_county(request.user)
    totals = {
        key: sum(r[key] for r in rows) for key in ("records", "permanent", "this_year", "pages")
    }
    return render(request, "stats/province.html", {"rows": rows, "totals": totals})
