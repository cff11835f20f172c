"""The dashboard's tables and the annual report as Excel (openpyxl) and PDF (WeasyPrint),
written by background jobs (``stats.jobs``) into the job's file."""

from pathlib import Path

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from dangan.access.models import Outcome
from dangan.pdf import render_pdf
from dangan.spreadsheets import Spreadsheet

from .annual_report import TITLE, AnnualReport

REPORT_STYLESHEET = Path(__file__).with_name("report.css")


#: The dashboard's tables by name, in the order ``dashboard_tables`` gives them.
TABLE_NAMES = (
    "category",
    "year",
    "unit",
    "growth",
    "digitization",
    "use",
    "exhibitions",
    "purpose",
    "receipts",
    "outcome",
    "overdue",
    "alerts",
)


def dashboard_tables(data: dict) -> dict[str, dict]:
    """Each table of the dashboard: its title, column heads and rows, from ``dashboard()``."""
    return {
        "category": {
            "title": _("Holdings by category"),
            "heads": [_("Code"), _("Category"), _("Records")],
            "rows": [[r["code"], r["name"], r["count"]] for r in data["by_category"]],
        },
        "year": {
            "title": _("Holdings by year"),
            "heads": [_("Year"), _("Records")],
            "rows": [[r["year"], r["count"]] for r in data["by_year"]],
        },
        "unit": {
            "title": _("Holdings by unit"),
            "heads": [_("Unit"), _("Records")],
            "rows": [[r["name"], r["count"]] for r in data["by_unit"]],
        },
        "growth": {
            "title": _("Growth per year"),
            "heads": [_("Year"), _("Records of the year"), _("Holdings up to the year")],
            "rows": [[r["year"], r["added"], r["total"]] for r in data["growth"]],
        },
        "digitization": {
            "title": _("Digitization"),
            "heads": [
                _("Category"),
                _("Records"),
                _("Records scanned"),
                _("Pages scanned"),
                _("Pages read by OCR"),
            ],
            "rows": [
                [r["name"], r["count"], r["records_scanned"], r["pages"], r["pages_ocr"]]
                for r in data["digitization"]
            ],
        },
        "use": {
            "title": _("Use by month"),
            "heads": [
                _("Month"),
                _("Reading room"),
                _("Loans"),
                _("Requests delivered"),
                _("Records used"),
            ],
            "rows": [
                [r["month"], r["reading"], r["loans"], r["requests"], r["records"]]
                for r in data["use"]
            ],
        },
        "exhibitions": {
            "title": _("Exhibition visits this year"),
            "heads": [_("Exhibition"), _("Visits")],
            "rows": [[r["exhibition"], r["visits"]] for r in data["exhibition_visits"]],
        },
        "purpose": {
            "title": _("Use by purpose this year"),
            "heads": [_("Purpose"), _("Uses")],
            "rows": [[r["name"], r["count"]] for r in data["use_by_purpose"]],
        },
        "receipts": {
            "title": _("Received, filed and destroyed this year, by unit"),
            "heads": [
                _("Unit"),
                _("Hand-overs received"),
                _("Records accepted"),
                _("Records filed"),
                _("Records destroyed"),
            ],
            "rows": [
                [r["unit"], r["handovers"], r["accepted"], r["filed"], r["destroyed"]]
                for r in data["receipts"]
            ],
        },
        "outcome": {
            "title": _("Use by purpose and outcome this year"),
            "heads": [
                _("Purpose"),
                *[label for _value, label in Outcome.choices],
                _("Not recorded"),
            ],
            "rows": [
                [r["name"], *[r[value] for value in Outcome.values], r["unknown"]]
                for r in data["use_outcomes"]
            ],
        },
        "overdue": {
            "title": _("Overdue loans"),
            "heads": [
                _("Record"),
                _("Borrower"),
                _("Borrower's unit"),
                _("Due"),
                _("Days overdue"),
            ],
            "rows": [
                [r["record"], r["borrower"], r["unit"], r["due_on"], r["days"]]
                for r in data["overdue_loans"]
            ],
        },
        "alerts": {
            "title": _("Open alerts of the stacks"),
            "heads": [_("Room"), _("Kind"), _("Started"), _("Worst value"), _("Readings")],
            "rows": [
                [
                    f"{a['room']} {a['room_name']}",
                    a["kind"],
                    a["started"],
                    a["worst"],
                    a["readings"],
                ]
                for a in data["alerts"]
            ],
        },
    }


def table_xlsx(*, title: str, heads: list, rows, out, note: str = "", progress=None) -> int:
    """One sheet into ``out`` (a binary file): a title line, an optional note, the column heads
    in bold, the rows (any iterable: they go to disk as they come); the rows written.
    ``progress(rows written)`` is called every 1,000 rows."""
    sheet = Spreadsheet(title, widths=[24] + [14] * (len(heads) - 1))
    sheet.append([title], bold=True, size=14)
    if note:
        sheet.append([note])
    sheet.append(heads, bold=True, center=True, wrap=True)
    count = 0
    for count, row in enumerate(rows, start=1):
        sheet.append(row)
        if progress is not None and count % 1000 == 0:
            progress(count)
    sheet.save(out)
    return count


def report_xlsx(report: AnnualReport, *, unit_name: str, out) -> None:
    """The report on one sheet: the holdings table, then each of its sections (a title line,
    the heads in bold, the rows), a blank line between."""
    title = f"{TITLE}({report.year}年度)"
    sheet = Spreadsheet(title, widths=[24] + [14] * (len(report.heads) - 1))
    sheet.append([title], bold=True, size=14)
    sheet.append([f"填报单位:{unit_name}"])
    sheet.append(report.heads, bold=True, center=True, wrap=True)
    for row in report.table():
        sheet.append(row)
    for section, heads, rows in report.sections:
        sheet.append([])
        sheet.append([section], bold=True)
        sheet.append(heads, bold=True, center=True, wrap=True)
        for row in rows:
            sheet.append(row)
    sheet.save(out)


def report_pdf(report: AnnualReport, *, unit_name: str) -> bytes:
    html = render_to_string(
        "stats/report_pdf.html",
        {"title": TITLE, "report": report, "unit_name": unit_name, "rows": report.table()},
    )
    return render_pdf(html, stylesheets=[REPORT_STYLESHEET], pdfa=True)
