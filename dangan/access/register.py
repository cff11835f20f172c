"""利用登记 (the utilisation register): the reading room's visits of a period, as the printed
register the archive keeps (PDF) and as a sheet (Excel). ID numbers are masked in both."""

import io
from pathlib import Path

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.people.id_numbers import mask

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
    from weasyprint import CSS, HTML

    html = render_to_string(
        "access/register_print.html",
        {"rows": rows(visits), "start": start, "end": end, "printed": timezone.localtime()},
    )
    return HTML(string=html).write_pdf(stylesheets=[CSS(filename=str(STYLESHEET))])


def register_xlsx(visits: list[Visit], *, start, end) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = _("Utilisation register")[:31]
    sheet.append([_("Utilisation register"), f"{start} – {end}"])
    sheet["A1"].font = Font(bold=True, size=14)
    header = [
        _("Time"),
        _("Visitor"),
        _("ID number"),
        _("Visitor's unit"),
        _("Purpose"),
        _("Records consulted"),
        _("Received by"),
        _("Remarks"),
    ]
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
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
    for column, width in zip("ABCDEFGH", (17, 12, 22, 24, 16, 30, 12, 24), strict=True):
        sheet.column_dimensions[column].width = width
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
