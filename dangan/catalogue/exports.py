"""Writing a selection of records as an Excel 归档文件目录 (the catalogue of filed items, DA/T 22).

``dangan.spreadsheets`` streams rows to a temporary file, so a selection of a million records
costs disk, not memory, and keeps a title such as ``=HYPERLINK(…)`` text. The caller passes
records already filtered by ``selectors.browse_records``; nothing here decides what a user may see.
"""

from dangan.accounts.models import Secrecy
from dangan.spreadsheets import Spreadsheet

#: Column headers and widths of the 归档文件目录, as the standard writes them (data, not UI text).
COLUMNS = [
    ("序号", 7),
    ("档号", 30),
    ("文号", 18),
    ("责任者", 20),
    ("题名", 60),
    ("日期", 11),
    ("密级", 7),
    ("页数", 7),
    ("备注", 24),
]
SHEET_TITLE = "归档文件目录"
#: 密级 as the catalogue writes it; 公开 and 内部 records leave the column empty by custom,
#: but writing the level keeps the sheet unambiguous.
SECRECY_TEXT = {
    Secrecy.PUBLIC: "公开",
    Secrecy.INTERNAL: "内部",
    Secrecy.SECRET: "秘密",
    Secrecy.CONFIDENTIAL: "机密",
    Secrecy.TOP_SECRET: "绝密",
}
_FIELDS = [
    "archival_code",
    "doc_number",
    "responsible",
    "title",
    "date",
    "secrecy",
    "page_count",
    "remarks",
]


def register_row(n: int, record) -> list:
    """One line of the catalogue for ``record``, numbered ``n``."""
    return [
        n,
        record.archival_code or record.legacy_number or "",
        record.doc_number,
        record.responsible,
        record.title,
        record.date.strftime("%Y%m%d") if record.date else "",
        SECRECY_TEXT.get(record.secrecy, ""),
        record.page_count,
        record.remarks,
    ]


def write_register(records, *, title: str = SHEET_TITLE, out=None, progress=None):
    """Write ``records`` (a queryset) as the catalogue; return (file, row count).

    Into ``out`` (a binary file) when given, else into a temporary file positioned at its start
    and removed when closed. Rows are read 2,000 at a time and written to disk as they come, so
    memory stays flat however many there are; ``progress(rows written)`` is called as it goes.
    """
    sheet = Spreadsheet(SHEET_TITLE, widths=[width for _header, width in COLUMNS], freeze="A3")
    sheet.append([title], bold=True, size=14)
    sheet.append([header for header, _width in COLUMNS], bold=True, center=True)
    count = 0
    rows = records.select_related(None).only(*_FIELDS, "legacy_number")
    for count, record in enumerate(rows.iterator(chunk_size=2000), start=1):
        sheet.append(register_row(count, record))
        if progress is not None and count % 1000 == 0:
            progress(count)
    if out is None:
        return sheet.to_temporary_file(), count
    sheet.save(out)
    return out, count
