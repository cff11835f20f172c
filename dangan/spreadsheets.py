"""The one writer of every spreadsheet Dangan hands out (.xlsx, and the cells of a .csv).

An Excel file from an archive is opened by people who trust it, so no text of ours may become a
formula there. OWASP's rule for CSV injection: a text beginning with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return is one a spreadsheet would read as a formula. In an .xlsx such a text is
written as a text cell with Excel's quote prefix (what typing ``'`` before it does): the reader
sees the text as it is, and editing the cell keeps it text. In a .csv there are no cell types,
so the text gets a leading ``'``. Numbers, dates and times stay typed, so sums and sorting work.

Openpyxl refuses control characters and aware datetimes, and Excel repairs (and warns about) a
cell longer than 32,767 characters; the writer mends each of these instead of failing the
export: a control character becomes U+FFFD, a time is written in local time, a long text is cut.

This module is below every app (it imports no app), so any of them may use it.
"""

import datetime
import decimal
import io
import json
import tempfile

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: What a spreadsheet reads as the start of a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
#: The most characters Excel keeps in one cell.
MAX_CELL_TEXT = 32_767
_TYPED = (int, float, decimal.Decimal, datetime.date, datetime.time, datetime.timedelta)


def is_formula_like(value) -> bool:
    """Whether a spreadsheet would take ``value`` for a formula if written as it is."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def plain(value):
    """``value`` as a cell holds it: numbers, dates and times typed, everything else text.

    Aware datetimes become local time (Excel has no time zones); dicts and lists become JSON.
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None)
    if isinstance(value, _TYPED):
        return value
    if isinstance(value, dict | list | tuple):
        value = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)
    text = ILLEGAL_CHARACTERS_RE.sub("\ufffd", str(value))
    if len(text) > MAX_CELL_TEXT:
        text = text[: MAX_CELL_TEXT - 1] + "…"
    return text


def csv_cell(value):
    """``value`` for one cell of a CSV file: formula-like text gets a leading ``'``."""
    value = plain(value)
    if value is None:
        return ""
    if is_formula_like(value):
        return "'" + value
    return value


class Spreadsheet:
    """One sheet written row by row (openpyxl's write-only mode: rows go to a temporary file,
    so a million of them cost disk, not memory).

    Column widths and frozen panes must be given before the first row, as Excel reads them.
    """

    def __init__(self, title: str, *, widths=(), freeze: str | None = None):
        self.book = Workbook(write_only=True)
        # A sheet's name: at most 31 characters, none of : \ / ? * [ ].
        name = "".join("_" if c in ":\\/?*[]" else c for c in str(title))[:31] or "Sheet"
        self.sheet = self.book.create_sheet(name)
        for index, width in enumerate(widths, start=1):
            self.sheet.column_dimensions[get_column_letter(index)].width = width
        if freeze:
            self.sheet.freeze_panes = freeze
        self.rows = 0

    def cell(self, value, *, bold=False, size=None, center=False, wrap=False):
        cell = WriteOnlyCell(self.sheet, value=None)
        value = plain(value)
        cell.value = value
        if is_formula_like(value):
            cell.data_type = "s"  # openpyxl made "=…" a formula: it is the record's text
            cell.quotePrefix = True
        if bold or size:
            cell.font = Font(bold=bold, size=size)
        if center or wrap:
            cell.alignment = Alignment(horizontal="center" if center else None, wrap_text=wrap)
        return cell

    def append(self, values, **style):
        """Write one row; ``style`` (bold, size, center, wrap) applies to each of its cells."""
        if style:
            self.sheet.append([self.cell(value, **style) for value in values])
        else:  # a plain value is a cell as it is: a cell object apiece costs a third of an export
            cells = [plain(value) for value in values]
            self.sheet.append(
                [self.cell(value) if is_formula_like(value) else value for value in cells]
            )
        self.rows += 1

    def save(self, target) -> None:
        self.book.save(target)

    def to_bytes(self) -> bytes:
        output = io.BytesIO()
        self.save(output)
        return output.getvalue()

    def to_temporary_file(self):
        """The workbook in a temporary file, positioned at its start, removed when closed."""
        output = tempfile.TemporaryFile(suffix=".xlsx")
        self.save(output)
        output.seek(0)
        return output
