"""Reading an old register as it is: an ``.xlsx`` workbook or a ``.csv`` file (UTF-8 or GBK).

Registers have a title row or two above the header (``失业人员档案托管花名册``), merged cells,
blank rows and a totals row at the bottom. ``open_register`` finds the header row (the first
row, of the first sheet that has one, in which several cells are known column names) and
``Register.rows`` yields each row below it with the spreadsheet's own row number, so that an
error is reported where the archivist will look for it.

Workbooks are streamed (see ``_stream_rows``); the streaming reader does not
see merged cells; the merge ranges are read from the sheet's XML separately and the value of
a merged cell is repeated over its whole range (a box number merged over ten rows belongs to
each of them).
"""

import codecs
import csv
import datetime
import re
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from pyexpat import ExpatError, ParserCreate

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

#: How far down a sheet the header row is looked for.
HEADER_SEARCH_ROWS = 30
#: How many cells of a row must be known column names for it to be the header row.
HEADER_MIN_MATCHES = 2
EXTENSIONS = (".xlsx", ".xlsm", ".csv")

_CELL = re.compile(r"([A-Z]+)(\d+)")
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+\d+):([A-Z]+\d+)"')


class RegisterUnreadable(ValidationError):
    """The file cannot be read as a register at all (the only case the import stops for)."""


@dataclass
class Register:
    path: Path
    sheet: str
    header_row: int
    headers: list[str]
    _rows: Callable[[], Iterator[tuple[int, list]]] = field(repr=False)

    def rows(self) -> Iterator[tuple[int, list]]:
        """(row number, cell values) of every row under the header, padded to the headers."""
        width = len(self.headers)
        for number, cells in self._rows():
            if number <= self.header_row:
                continue
            cells = list(cells[:width])
            if len(cells) < width:
                cells.extend([None] * (width - len(cells)))
            yield number, cells


def open_register(path, *, score: Callable[[list], int]) -> Register:
    """Open ``path`` and find its header row; ``score`` counts the known headers in a row.

    Raises ``RegisterUnreadable`` when the file is not a workbook or CSV file that can be read,
    or has no row that looks like a header.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise RegisterUnreadable(
            _("“%(name)s” is not an .xlsx or .csv file. Save old .xls registers as .xlsx first.")
            % {"name": path.name},
            code="file_type",
        )
    if not path.exists():
        raise RegisterUnreadable(
            _("There is no file “%(name)s”.") % {"name": str(path)}, code="file_missing"
        )
    sheets = _csv_sheets(path) if suffix == ".csv" else _xlsx_sheets(path)
    for sheet, rows in sheets:
        found = _find_header(rows, score)
        if found:
            number, cells = found
            return Register(
                path=path, sheet=sheet, header_row=number, headers=_header_names(cells), _rows=rows
            )
    raise RegisterUnreadable(
        _(
            "No header row was found in “%(name)s”: no row near the top names at least %(n)d "
            "known columns (such as 姓名 and 身份证号)."
        )
        % {"name": path.name, "n": HEADER_MIN_MATCHES},
        code="no_header",
    )


def _find_header(rows, score):
    for number, cells in rows():
        if number > HEADER_SEARCH_ROWS:
            return None
        if score(list(cells)) >= HEADER_MIN_MATCHES:
            return number, list(cells)
    return None


def _header_names(cells) -> list[str]:
    """Header texts, made unique; an empty header is named after its column letter."""
    names, seen = [], {}
    while cells and (cells[-1] is None or str(cells[-1]).strip() == ""):
        cells = cells[:-1]
    for index, cell in enumerate(cells):
        text = " ".join(str(cell).split()) if cell is not None else ""
        if not text:
            text = _("Column %(letter)s") % {"letter": _column_letter(index + 1)}
        if text in seen:
            seen[text] += 1
            text = f"{text} ({seen[text]})"
        else:
            seen[text] = 1
        names.append(text)
    return names


def _column_letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


# --- .xlsx -----------------------------------------------------------------------------------
#
# openpyxl's read-only reader builds an element per cell and, for files without a <dimension>,
# parses every sheet once more just to size it; at 100,000 rows that is most of an import's
# time. The sheet XML is therefore streamed through expat here, with openpyxl's own rules for
# number formats (which cells are dates) and Excel serial dates.

#: Built-in number formats that show dates in Chinese-locale Excel and WPS (年月日 forms).
_CJK_DATE_FORMATS = set(range(27, 37)) | set(range(50, 59))


def _xlsx_sheets(path: Path):
    from dangan.security.archives import check_zip

    try:
        check_zip(path, name=path.name)  # a zip bomb is refused before anything is inflated
    except ValidationError as exc:
        raise RegisterUnreadable(" ".join(exc.messages), code="file_unreadable") from exc
    try:
        book = _Workbook(path)
    except (KeyError, ValueError, zipfile.BadZipFile, ExpatError, OSError) as exc:
        raise RegisterUnreadable(
            _("“%(name)s” cannot be read as an Excel workbook: %(error)s")
            % {"name": path.name, "error": exc},
            code="file_unreadable",
        ) from exc
    for name, part in book.sheets:
        yield name, book.rows_of(part)


class _Workbook:
    """What is needed to read a workbook's cells: sheets, shared strings, date styles."""

    def __init__(self, path: Path):
        self.path = path
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            workbook = archive.read("xl/workbook.xml").decode("utf-8")
            self.date1904 = bool(re.search(r'date1904="(1|true)"', workbook))
            parts = _sheet_parts(path)
            self.sheets = [(name, part) for name, part in parts.items() if part in names]
            self.strings = (
                _shared_strings(archive.read("xl/sharedStrings.xml"))
                if "xl/sharedStrings.xml" in names
                else []
            )
            self.date_styles = (
                _date_styles(archive.read("xl/styles.xml")) if "xl/styles.xml" in names else set()
            )

    def rows_of(self, part: str):
        merges = None

        def rows():
            nonlocal merges
            if merges is None:
                merges = _merged_ranges(self.path, part)
            fill = _merge_filler(merges)
            previous = 0
            for number, cells in _stream_rows(self, part):
                for empty in range(previous + 1, number):
                    yield empty, _filled(fill, empty, [])
                previous = number
                yield number, _filled(fill, number, cells)

        return rows


def _filled(fill, number, cells):
    if fill:
        fill(number, cells)
    return cells


def _local(tag: str) -> str:
    return tag.rpartition(":")[2] if ":" in tag else tag


def _shared_strings(data: bytes) -> list[str]:
    """The shared string table; rich text runs joined, phonetic guides (rPh) left out."""
    strings: list[str] = []
    parts: list[str] = []
    depth = {"rPh": 0, "t": 0}

    def start(tag, _attrs):
        tag = _local(tag)
        if tag in depth:
            depth[tag] += 1
        elif tag == "si":
            parts.clear()

    def end(tag):
        tag = _local(tag)
        if tag in depth:
            depth[tag] -= 1
        elif tag == "si":
            strings.append("".join(parts))

    def text(data):
        if depth["t"] and not depth["rPh"]:
            parts.append(data)

    parser = ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = text
    parser.Parse(data, True)
    return strings


def _date_styles(data: bytes) -> set[int]:
    """Indexes of the cell styles (cellXfs) whose number format shows a date."""
    from openpyxl.styles.numbers import BUILTIN_FORMATS, is_date_format

    formats = dict(BUILTIN_FORMATS)
    dates: set[int] = set()
    state = {"in_xfs": False, "index": 0}

    def start(tag, attrs):
        tag = _local(tag)
        if tag == "numFmt":
            formats[int(attrs.get("numFmtId", -1))] = attrs.get("formatCode", "")
        elif tag == "cellXfs":
            state["in_xfs"] = True
        elif tag == "xf" and state["in_xfs"]:
            number = int(attrs.get("numFmtId", 0))
            if number in _CJK_DATE_FORMATS or is_date_format(formats.get(number)):
                dates.add(state["index"])
            state["index"] += 1

    def end(tag):
        if _local(tag) == "cellXfs":
            state["in_xfs"] = False

    parser = ParserCreate()
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.Parse(data, True)
    return dates


def _stream_rows(book: _Workbook, part: str):
    """(row number, values) of a sheet, read in chunks; only rows that are in the file."""
    from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, from_excel

    epoch = CALENDAR_MAC_1904 if book.date1904 else CALENDAR_WINDOWS_1900
    strings, date_styles = book.strings, book.date_styles
    done: list[tuple[int, list]] = []
    row: list = []
    cell = {"column": 0, "type": "n", "style": 0, "text": [], "collect": False}
    current = {"row": 0}

    def start(tag, attrs):
        tag = _local(tag)
        if tag == "c":
            ref = attrs.get("r")
            cell["column"] = _ref_column(ref) if ref else len(row) + 1
            cell["type"] = attrs.get("t", "n")
            cell["style"] = int(attrs.get("s", 0))
            cell["text"] = []
        elif tag == "v" or tag == "t":
            cell["collect"] = True
        elif tag == "row":
            row.clear()
            current["row"] = int(attrs.get("r", current["row"] + 1))

    def end(tag):
        tag = _local(tag)
        if tag == "v" or tag == "t":
            cell["collect"] = False
        elif tag == "c":
            value = _cell_value(cell, strings, date_styles, epoch, from_excel)
            column = cell["column"]
            if len(row) < column:
                row.extend([None] * (column - len(row)))
            row[column - 1] = value
        elif tag == "row":
            done.append((current["row"], list(row)))

    def text(data):
        if cell["collect"]:
            cell["text"].append(data)

    parser = ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler, parser.EndElementHandler = start, end
    parser.CharacterDataHandler = text
    with zipfile.ZipFile(book.path) as archive, archive.open(part) as stream:
        while chunk := stream.read(1 << 18):
            parser.Parse(chunk, False)
            yield from done
            done.clear()
        parser.Parse(b"", True)
        yield from done


def _ref_column(ref: str) -> int:
    number = 0
    for char in ref:
        if char.isdigit():
            break
        number = number * 26 + ord(char) - 64
    return number


def _cell_value(cell, strings, date_styles, epoch, from_excel):
    text = "".join(cell["text"])
    kind = cell["type"]
    if kind == "s":
        return strings[int(text)] if text else None
    if kind in ("inlineStr", "str"):
        return text
    if kind == "b":
        return text == "1"
    if kind == "e" or text == "":
        return None
    if text.lstrip("-").isdigit():
        number = int(text)
    else:
        number = float(text)
        if number.is_integer() and abs(number) < 1e15:
            number = int(number)
    if cell["style"] in date_styles:
        try:
            return from_excel(number, epoch)
        except (ValueError, OverflowError):
            return number
    return number


def _sheet_parts(path: Path) -> dict[str, str]:
    """Sheet name → its XML part inside the workbook, for reading the merge ranges."""
    try:
        with zipfile.ZipFile(path) as archive:
            workbook = archive.read("xl/workbook.xml").decode("utf-8")
            rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    except (KeyError, zipfile.BadZipFile, UnicodeDecodeError):
        return {}
    targets = dict(re.findall(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?Target="([^"]+)"', rels))
    targets.update(
        {
            rid: target
            for target, rid in re.findall(
                r'<Relationship[^>]*?Target="([^"]+)"[^>]*?Id="([^"]+)"', rels
            )
        }
    )
    parts = {}
    for tag in re.findall(r"<(?:\w+:)?sheet\b[^>]*>", workbook):
        name = re.search(r'\bname="([^"]*)"', tag)
        rid = re.search(r'\br:id="([^"]*)"', tag) or re.search(r'\bid="([^"]*)"', tag)
        if name and rid and rid.group(1) in targets:
            target = targets[rid.group(1)].lstrip("/")
            part = target if target.startswith("xl/") else f"xl/{target}"
            parts[_xml_unescape(name.group(1))] = part
    return parts


def _xml_unescape(text: str) -> str:
    return (
        text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", '"')
        .replace("&apos;", "'")
        .replace("&amp;", "&")
    )


def _merged_ranges(path: Path, part: str | None) -> list[tuple[int, int, int, int]]:
    """(first row, first column, last row, last column) of each merged range of a sheet.

    The ``<mergeCells>`` element comes after all the rows, so the part is scanned in chunks.
    """
    if not part:
        return []
    ranges, tail = [], b""
    with zipfile.ZipFile(path) as archive, archive.open(part) as stream:
        while chunk := stream.read(1 << 20):
            data = tail + chunk
            if b"mergeCell" in data:
                for first, last in _MERGE.findall(data):
                    r1, c1 = _cell_position(first.decode())
                    r2, c2 = _cell_position(last.decode())
                    ranges.append((r1, c1, r2, c2))
            tail = data[-200:]
    return sorted(set(ranges))


def _cell_position(ref: str) -> tuple[int, int]:
    letters, digits = _CELL.fullmatch(ref).groups()
    return int(digits), _column_number(letters)


def _merge_filler(merges):
    """A function that writes each merged range's top-left value into the rest of the range."""
    if not merges:
        return None
    anchors: dict[tuple[int, int], object] = {}
    by_row: dict[int, list] = {}
    for r1, c1, r2, c2 in merges:
        for row in range(r1, r2 + 1):
            by_row.setdefault(row, []).append((r1, c1, c2))

    def fill(number: int, cells: list):
        for r1, c1, c2 in by_row.get(number, ()):
            if number == r1:
                anchors[(r1, c1)] = cells[c1 - 1] if c1 <= len(cells) else None
            value = anchors.get((r1, c1))
            if len(cells) < c2:
                cells.extend([None] * (c2 - len(cells)))
            for column in range(c1, c2 + 1):
                if cells[column - 1] is None:
                    cells[column - 1] = value

    return fill


# --- .csv ------------------------------------------------------------------------------------


def _csv_encoding(path: Path) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes as such, else GB18030 (GBK)."""
    with path.open("rb") as stream:
        head = stream.read(4)
        if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
            return "utf-16"
        stream.seek(0)
        decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            while chunk := stream.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
            return "utf-8-sig"
        except UnicodeDecodeError:
            pass
        stream.seek(0)
        decoder = codecs.getincrementaldecoder("gb18030")()
        try:
            while chunk := stream.read(1 << 20):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise RegisterUnreadable(
                _("“%(name)s” is neither UTF-8 nor GBK text.") % {"name": path.name},
                code="file_encoding",
            ) from exc
    return "gb18030"


def _csv_sheets(path: Path):
    encoding = _csv_encoding(path)
    with path.open(encoding=encoding, newline="") as stream:
        sample = stream.read(64 * 1024)
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;|")
    except csv.Error:
        dialect = csv.excel

    def rows():
        with path.open(encoding=encoding, newline="") as stream:
            for number, cells in enumerate(csv.reader(stream, dialect), start=1):
                yield number, [cell if cell.strip() else None for cell in cells]

    yield path.stem, rows


def preview(register: Register, count: int = 10) -> list[tuple[int, list]]:
    """The first ``count`` rows under the header, for showing before an import. A spreadsheet
    stores a date as a date and time at midnight: shown as the date the clerk typed."""
    out = []
    for number, cells in register.rows():
        out.append((number, [_as_typed(cell) for cell in cells]))
        if len(out) >= count:
            break
    return out


def _as_typed(cell):
    if isinstance(cell, datetime.datetime) and cell.time() == datetime.time(0):
        return cell.date()
    return cell
