"""利用登记 (the utilisation register): the reading room's visits of a period, as the printed
register the archive keeps (PDF) and as a sheet (Excel). ID numbers are masked in both."""

from pathlib import Path

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.pdf import render_pdf
from dangan.people.id_numbers import mask
from dangan.spreadsheets import Spreadsheet

from .models import Visit

STYLESHEET = Path(__file__).with_name("register.css")


def rows(visits: list[Visit]) -> list[dict]:
    """One row per visit: what the register prints."""
    return [
        {
            "at": timezone.localtime(v.at),
            "visitor": v.visitor_name,
            "id_number": mask(v.id_number),
            "unit": v.visitor_unit,
            "purpose": v.get_purpose_display(),
            "records": [
                u.record.archival_code or u.record.legacy_number or "" for u in v.visible_uses
            ],
            "titles": [u.record.title for u in v.visible_uses],
            "clerk": v.clerk.get_full_name() or v.clerk.username,
            "remarks": v.remarks,
        }
        for v in visits
    ]


def register_pdf(visits: list[Visit], *, start, end) -> bytes:
    html = render_to_string(
        "access/register_print.html",
        {"rows": rows(visits), "start": start, "end": end, "printed": timezone.localtime()},
    )
    return render_pdf(html, stylesheets=[STYLESHEET])


def register_xlsx(visits: list[Visit], *, start, end) -> bytes:
    title = _("Utilisation register")
    sheet = Spreadsheet(title, widths=(17, 12, 22, 24, 16, 30, 12, 24))
    sheet.append([title, f"{start} – {end}"], bold=True, size=14)
    sheet.append(
        [
            _("Time"),
            _("Visitor"),
            _("ID number"),
            _("Visitor's unit"),
            _("Purpose"),
            _("Records consulted"),
            _("Received by"),
            _("Remarks"),
        ],
        bold=True,
    )
    for row in rows(visits):
        sheet.append(
            [
                row["at"].strftime("%Y-%m-%d %H:%M"),
                row["visitor"],
                row["id_number"],
                row["unit"],
                row["purpose"],
                "\n".join(row["records"]),
                row["clerk"],
                row["remarks"],
            ]
        )
    return sheet.to_bytes()
