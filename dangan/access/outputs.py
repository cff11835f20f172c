"""输出: what a reader chose, handed out — a list of records in Excel or as a PDF, or chosen
pages of one record as one PDF with the reader's watermark.

The writers here only make the file; ``services.output_records`` and ``services.output_pages``
decide who may have what (``services.copy_refusal``) and audit each output with what was in it.
An output of many records or pages is made in the background (``dangan.jobs``, the kinds in
``output_jobs.py``) and offered on the job's page when it is whole.
"""

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from dangan import spreadsheets
from dangan.catalogue.models import Record
from dangan.pdf import render_pdf

from . import copies

#: Up to this many records (or pages), an output is made while the reader waits; more go to
#: a background job.
AT_ONCE_RECORDS = 200
AT_ONCE_PAGES = 20
#: The most records one list holds.
MAX_RECORDS = 5000
FORMATS = ("xlsx", "pdf")

LIST_CSS = """
@page { size: A4 landscape; margin: 14mm 12mm;
  @bottom-right { content: counter(page) " / " counter(pages); font-size: 8pt; } }
body { font-family: "Noto Sans CJK SC", sans-serif; font-size: 9pt; }
h1 { font-size: 13pt; margin: 0 0 2mm; }
p.note { color: #555; margin: 0 0 4mm; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 0.5pt solid #999; padding: 1mm 1.5mm; text-align: left; vertical-align: top; }
th { background: #eee; }
"""


def list_columns():
    """The list's columns: heading and how to read it from a record."""
    return [
        (_("Archival code"), lambda r: r.archival_code or r.legacy_number or ""),
        (_("Title"), lambda r: r.title),
        (_("Responsible party"), lambda r: r.responsible),
        (_("Document number"), lambda r: r.doc_number),
        (_("Date"), lambda r: r.date),
        (_("Year"), lambda r: r.year),
        (_("Retention"), lambda r: r.get_retention_display()),
        (_("Category"), lambda r: r.category.name),
        (_("Pages"), lambda r: r.page_count),
    ]


def list_xlsx(records: list[Record], *, progress=None) -> bytes:
    sheet = spreadsheets.Spreadsheet(
        _("Records"), widths=(24, 48, 22, 16, 12, 8, 10, 20, 8), freeze="A2"
    )
    columns = list_columns()
    sheet.append([heading for heading, _read in columns], bold=True)
    for n, record in enumerate(records, start=1):
        sheet.append([read(record) for _heading, read in columns])
        if progress and n % 200 == 0:
            progress(n, len(records))
    return sheet.to_bytes()


def list_pdf(records: list[Record], *, note: str) -> bytes:
    columns = list_columns()
    rows = [[read(r) for _heading, read in columns] for r in records]
    html = render_to_string(
        "access/output_list.html",
        {
            "heading": _("List of %(n)s records") % {"n": len(records)},
            "note": note,
            "headings": [heading for heading, _read in columns],
            "rows": [["" if value is None else value for value in row] for row in rows],
        },
    )
    return render_pdf(html, css=LIST_CSS)


def pages_pdf(page_pdfs: list[bytes], *, text: str, title: str) -> tuple[bytes, int]:
    """The chosen pages, in order, as one PDF with ``text`` drawn over each page (as outlines:
    ``watermark.py``), and how many PDF pages it has."""
    return copies.stamped(page_pdfs, text=text, title=title)
