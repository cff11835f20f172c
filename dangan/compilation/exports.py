"""A compilation as a print-ready PDF, a DOCX for further editing, and a chronicle as Excel.

Each writer takes the compilation's content (``selectors.export_content``: the approved
version, or the draft marked as such), a binary file ``out`` and ``progress(done, total)``; the
background job (``jobs.py``) and ``dangan compilation export`` call them alike. The PDF goes
through ``dangan.pdf.render_pdf`` (the CJK font checked), the sheet through
``dangan.spreadsheets``.
"""

import base64
import io
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from dangan.pdf import render_pdf
from dangan.spreadsheets import Spreadsheet

from .models import Compilation

STYLESHEET = Path(__file__).with_name("export.css")
FORMATS = ("pdf", "docx", "xlsx")
#: Page images printed for one topic entry (all of them stay in the record).
PAGES_PER_ENTRY = 4


def date_label(parts) -> str:
    """``[1992, 3, None]`` as the reader writes it: 1992年03月, 1992-03."""
    if not parts or not parts[0]:
        return ""
    year, month, day = (list(parts) + [None, None])[:3]
    if day:
        return _("%(year)s-%(month)s-%(day)s") % {
            "year": year,
            "month": f"{month:02d}",
            "day": f"{day:02d}",
        }
    if month:
        return _("%(year)s-%(month)s") % {"year": year, "month": f"{month:02d}"}
    return _("year %(year)s") % {"year": year}


def period_label(entry: dict) -> str:
    start, end = date_label(entry["date"]), date_label(entry["end"])
    if start and end:
        return _("%(start)s to %(end)s") % {"start": start, "end": end}
    if start:
        return _("from %(start)s") % {"start": start}
    if end:
        return _("until %(end)s") % {"end": end}
    return ""


def kind_label(kind: str) -> str:
    return str(Compilation.Kind(kind).label)


def parts_of(content: dict) -> list[dict]:
    """The entries grouped as the contents list them: a topic compilation by chapter, a
    chronicle by year, an organisational history by period (the name it had)."""
    parts: list[dict] = []
    kind = content["kind"]
    for entry in content["entries"]:
        entry = {**entry, "when": period_label(entry) if kind == "orghistory" else ""}
        if kind == "chronicle":
            entry["when"] = date_label(entry["date"])
            heading = date_label([entry["date"][0]]) if entry["date"] else _("Undated")
        elif kind == "orghistory":
            heading = entry["name"] or _("Period")
        else:
            heading = entry["chapter"] or _("Records")
        if kind == "orghistory" or not parts or parts[-1]["heading"] != heading:
            parts.append({"heading": heading, "entries": []})
        parts[-1]["entries"].append(entry)
    return parts


def sources_of(content: dict) -> list[dict]:
    """Every record cited, once, in archival-code order."""
    seen = {}
    for entry in content["entries"]:
        for cite in entry["citations"]:
            seen.setdefault(cite["code"], cite)
    return [seen[code] for code in sorted(seen)]


def _page_images(entry: dict) -> list[bytes]:
    """The previews of the first pages of the entry's first cited record (JPEG derivatives)."""
    from dangan.content.models import Page
    from dangan.content.selectors import open_blob

    if not entry.get("with_pages") or not entry["citations"]:
        return []
    record = entry["citations"][0].get("record")
    pages = (
        Page.objects.filter(
            record_id=record, role=Page.Role.ORIGINAL, processing__preview__isnull=False
        )
        .select_related("processing__preview")
        .order_by("position")[:PAGES_PER_ENTRY]
    )
    images = []
    for page in pages:
        stream = open_blob(page.processing.preview)
        try:
            images.append(stream.read())
        finally:
            stream.close()
    return images


def _tick(progress, done, total):
    if progress is not None:
        progress(done, total)


def write_pdf(content: dict, out, progress=None) -> None:
    parts = parts_of(content)
    total = len(content["entries"]) + 1
    done = 0
    for part in parts:
        for entry in part["entries"]:
            entry["images"] = [
                "data:image/jpeg;base64," + base64.b64encode(data).decode()
                for data in _page_images(entry)
            ]
            done += 1
            if done % 50 == 0:
                _tick(progress, done, total)
    html = render_to_string(
        "compilation/export_pdf.html",
        {
            "c": content,
            "kind_label": kind_label(content["kind"]),
            "issuer": settings.DANGAN_ISSUER_NAME,
            "introduction": [p for p in content["introduction"].splitlines() if p.strip()],
            "parts": parts,
            "sources": sources_of(content),
            "language": get_language(),
        },
    )
    out.write(render_pdf(html, stylesheets=[STYLESHEET]))
    _tick(progress, total, total)


def write_docx(content: dict, out, progress=None) -> None:
    """A DOCX with the same parts: a contents field Word fills in, page numbers in the footer."""
    from docx import Document
    from docx.enum.section import WD_SECTION
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.shared import Cm, Pt

    document = Document()
    style = document.styles["Normal"]
    style.font.name = "Noto Serif CJK SC"
    style.font.size = Pt(10.5)
    _east_asian_font(style, "Noto Serif CJK SC")
    title = document.add_heading(content["title"], level=0)
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for line in (
        kind_label(content["kind"]),
        content["unit"],
        _("Compiled by %(who)s") % {"who": content["compiled_by"]}
        if content["compiled_by"]
        else "",
        settings.DANGAN_ISSUER_NAME,
        _("Version %(n)s, approved %(day)s")
        % {"n": content["version"], "day": content["approved_at"]}
        if content["approved"]
        else _("Draft, not approved"),
    ):
        if line:
            document.add_paragraph(line).alignment = WD_ALIGN_PARAGRAPH.CENTER
    document.add_paragraph().add_run().add_break(WD_BREAK.PAGE)
    document.add_heading(_("Contents"), level=1)
    _field(document.add_paragraph(), 'TOC \\o "1-2" \\h \\z \\u', _("Update the field to see it."))
    body = document.add_section(WD_SECTION.NEW_PAGE)
    _field(body.footer.paragraphs[0], "PAGE", "1")
    body.footer.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    if content["introduction"]:
        document.add_heading(_("Introduction"), level=1)
        for para in content["introduction"].splitlines():
            if para.strip():
                document.add_paragraph(para)
    total, done = len(content["entries"]) + 1, 0
    for part in parts_of(content):
        document.add_heading(part["heading"], level=1)
        for entry in part["entries"]:
            _docx_entry(document, content["kind"], entry, Cm)
            done += 1
            if done % 50 == 0:
                _tick(progress, done, total)
    document.add_page_break()
    document.add_heading(_("Sources"), level=1)
    sources = sources_of(content)
    table = document.add_table(rows=1, cols=4)
    table.style = "Table Grid"
    heads = [_("Archival code"), _("Title"), _("Date"), _("Responsible party")]
    for cell, text in zip(table.rows[0].cells, heads, strict=True):
        cell.text = text
    for source in sources:
        cells = table.add_row().cells
        for cell, key in zip(cells, ("code", "title", "date", "responsible"), strict=True):
            cell.text = source[key] or ""
    document.save(out)
    _tick(progress, total, total)


def _docx_entry(document, kind: str, entry: dict, Cm) -> None:
    if kind == "orghistory":
        for label, value in (
            (_("Period"), entry["when"]),
            (_("Parent body"), entry["parent_name"]),
            (_("Functions"), entry["functions"]),
            (_("Leaders"), entry["leaders"]),
        ):
            if value:
                para = document.add_paragraph()
                para.add_run(f"{label}: ").bold = True
                para.add_run(value)
        if entry["text"]:
            document.add_paragraph(entry["text"])
    elif kind == "chronicle":
        para = document.add_paragraph()
        para.add_run(entry["when"] + "  ").bold = True
        para.add_run(entry["text"])
    else:
        first = entry["citations"][0] if entry["citations"] else {}
        document.add_paragraph().add_run(first.get("title", "")).bold = True
        if entry["text"]:
            document.add_paragraph(entry["text"])
    if entry["citations"]:
        codes = "; ".join(c["code"] for c in entry["citations"])
        document.add_paragraph(_("Source:") + " " + codes)
    if entry["note"]:
        document.add_paragraph(_("Editor's note:") + " " + entry["note"])
    for data in _page_images(entry):
        document.add_picture(io.BytesIO(data), width=Cm(10))


def _east_asian_font(style, name: str) -> None:
    """Word takes Chinese characters' font from the run's eastAsia attribute."""
    from docx.oxml.ns import qn

    fonts = style.element.get_or_add_rPr().get_or_add_rFonts()
    fonts.set(qn("w:eastAsia"), name)


def _field(paragraph, instruction: str, placeholder: str) -> None:
    """A Word field (contents, page number) in ``paragraph``."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def char(kind):
        element = OxmlElement("w:fldChar")
        element.set(qn("w:fldCharType"), kind)
        return element

    run = paragraph.add_run()
    run._r.append(char("begin"))
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = instruction
    run._r.append(code)
    run._r.append(char("separate"))
    paragraph.add_run(placeholder)
    paragraph.add_run()._r.append(char("end"))


def write_xlsx(content: dict, out, progress=None) -> None:
    """A chronicle as one row per event: date, event, sources, note (other kinds: their
    entries the same way)."""
    sheet = Spreadsheet(content["title"], widths=(14, 60, 40, 30), freeze="A2")
    sheet.append([_("Date"), _("Event"), _("Sources"), _("Editor's note")], bold=True)
    total = len(content["entries"])
    for n, entry in enumerate(content["entries"], start=1):
        text = entry["text"] or entry["name"]
        when = date_label(entry["date"]) if content["kind"] != "orghistory" else period_label(entry)
        sheet.append(
            [
                when,
                text,
                "; ".join(c["code"] for c in entry["citations"]),
                entry["note"],
            ],
            wrap=True,
        )
        if n % 200 == 0:
            _tick(progress, n, total)
    sheet.save(out)
    _tick(progress, total, total)


WRITERS = {"pdf": write_pdf, "docx": write_docx, "xlsx": write_xlsx}
SUFFIXES = {"pdf": ".pdf", "docx": ".docx", "xlsx": ".xlsx"}
