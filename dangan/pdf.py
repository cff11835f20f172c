"""The one place Dangan renders a PDF from HTML (WeasyPrint): certificates, reports, labels, copies.

Without a Chinese font, WeasyPrint does not fail: it draws an empty box (the font's ``.notdef``
glyph) for every character and logs a warning, and the text layer stays right, so the PDF looks
fine to a program and is useless to a person. So a PDF is refused instead: before rendering when
fontconfig knows no Chinese font, and after rendering when any character was drawn as
``.notdef``. The refusal is a ``ValidationError`` with a translated message that says what to
install; views show it as they show any other error, and nothing is written.

``font_problem()`` is also a system check (``dangan check``, and ``dangan run`` at start).

PDFs the archive keeps for good — certified copies, destruction certificates, ledger day pages,
annual reports, the in-volume list — are PDF/A-2b (``render_pdf(..., pdfa=True)``: WeasyPrint's
``pdf/a-2b`` variant: fonts embedded, an sRGB OutputIntent, XMP with ``pdfaid``). A document
assembled afterwards with pikepdf (a copy: the cover, then the record's pages) is finished by
``finish_pdfa``. Both are checked by ``pdfa_problems`` (pikepdf's PDF/A validator, with veraPDF's
rules, and our own look at fonts and active content) before they are returned, and refused
(``ValidationError``, code ``not_pdfa``) when a check fails: nothing that claims PDF/A and is not
is stored or handed out.
"""

import logging
import shutil
import subprocess
import threading
from pathlib import Path

from django.core import checks
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

#: The Debian package that brings the fonts every PDF needs (simplified and traditional).
FONT_PACKAGE = "fonts-noto-cjk"


def _install_hint() -> str:
    return _("Install the Chinese fonts: sudo apt-get install %(package)s") % {
        "package": FONT_PACKAGE
    }


def font_problem() -> str | None:
    """What is wrong with this machine's fonts for our PDFs, or None when a Chinese font is there.

    Asks fontconfig, which WeasyPrint's Pango uses too (a ``FONTCONFIG_FILE`` in the
    environment is honoured by both). Without ``fc-list`` the question cannot be asked; the
    glyph check after rendering still guards every PDF."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    found = subprocess.run(
        [fc_list, ":lang=zh-cn", "family"], capture_output=True, text=True, timeout=30
    )
    if found.stdout.strip():
        return None
    return _("No Chinese font is installed, so PDFs cannot be made.")


class _MissingGlyphs(logging.Handler):
    """Collects the characters WeasyPrint drew as .notdef in this thread."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.thread = threading.get_ident()
        self.characters: list[str] = []

    def emit(self, record):
        if record.thread == self.thread and record.getMessage().startswith(".notdef"):
            character = record.args[0] if record.args else "?"
            if character not in self.characters:
                self.characters.append(character)


def render_pdf(html: str, *, stylesheets=(), css: str = "", pdfa: bool = False) -> bytes:
    """The PDF of ``html`` with the stylesheet files ``stylesheets`` (and the CSS text ``css``);
    with ``pdfa`` a PDF/A-2b, checked by ``pdfa_problems``.

    Raises ``ValidationError`` (code ``missing_font``) when a character would be drawn as an
    empty box, (code ``not_pdfa``) when a PDF/A fails its check."""
    problem = font_problem()
    if problem:
        raise ValidationError(f"{problem} {_install_hint()}", code="missing_font")
    from weasyprint import CSS, HTML

    sheets = [CSS(filename=str(Path(sheet))) for sheet in stylesheets]
    if css:
        sheets.append(CSS(string=css))
    collector = _MissingGlyphs()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(collector)
    try:
        pdf = HTML(string=html).write_pdf(
            stylesheets=sheets, pdf_variant="pdf/a-2b" if pdfa else None
        )
    finally:
        logger.removeHandler(collector)
    if collector.characters:
        shown = "".join(collector.characters[:10])
        raise ValidationError(
            _("This PDF was not made: no installed font draws the characters “%(chars)s”.")
            % {"chars": shown}
            + " "
            + _install_hint(),
            code="missing_font",
        )
    if pdfa:
        check_pdfa(pdf)
    return pdf


# --- PDF/A-2b -------------------------------------------------------------------------------

#: Keys that make a PDF act; PDF/A forbids them (ISO 19005-2, 6.6).
_FORBIDDEN_KEYS = {"/JS", "/JavaScript", "/AA", "/EmbeddedFiles", "/RichMedia", "/XFA"}
_FORBIDDEN_ACTIONS = {"/JavaScript", "/Launch", "/ImportData", "/ResetForm", "/Movie", "/Sound"}


def finish_pdfa(pdf) -> None:
    """Make the open pikepdf document ``pdf`` declare PDF/A-2b before it is saved (pikepdf's
    ``pdfa.prepare``: one sRGB OutputIntent, XMP with ``pdfaid`` part 2 conformance B agreeing
    with the document information, no document-level script). It embeds no font and changes
    no page: ``pdfa_problems`` says whether the result is PDF/A."""
    from pikepdf import pdfa

    pdfa.prepare(pdf, "2b")


def check_pdfa(data: bytes) -> None:
    """Raise ``ValidationError`` (code ``not_pdfa``) naming what makes ``data`` no PDF/A-2b."""
    problems = pdfa_problems(data)
    if problems:
        raise ValidationError(
            _("This PDF was not made: it is not PDF/A-2b (%(problems)s).")
            % {"problems": "; ".join(problems[:5])},
            code="not_pdfa",
        )


def pdfa_problems(data: bytes) -> list[str]:
    """What in ``data`` breaks PDF/A-2b (ISO 19005-2); an empty list: it passes.

    pikepdf's validator (``pikepdf.pdfa``, veraPDF's rules: file identifier, XMP and its
    ``pdfaid``, agreement with the document information, OutputIntent, colour spaces, filters
    …) names each violation by its rule; what it does not look at, we do: every font embedded
    (6.2.11.4) and no script, launched program or attached file anywhere (6.6)."""
    import io

    import pikepdf
    from pikepdf import pdfa

    report = pdfa.validate_written(io.BytesIO(data), "2b")
    problems = [
        f"{finding.rule}: {finding.message}"
        for finding in report.findings
        if finding.kind == "violation"
    ]
    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            problems += _font_problems(pdf) + _active_problems(pdf)
    except pikepdf.PdfError as error:
        problems.append(f"unreadable: {error}")
    return problems


def carried_problems(data: bytes) -> list[str]:
    """What the pages of the PDF ``data`` would carry into a PDF/A they are put in, once its
    metadata is mended (``finish_pdfa``): fonts not embedded, active content, and the other
    violations pikepdf's validator still finds."""
    import io

    import pikepdf
    from pikepdf import pdfa

    try:
        with pikepdf.open(io.BytesIO(data)) as pdf:
            problems = _font_problems(pdf) + _active_problems(pdf)
            pdfa.prepare(pdf, "2b")
            problems += [
                f"{finding.rule}: {finding.message}"
                for finding in pdfa.check(pdf, "2b").findings
                if finding.kind == "violation"
            ]
    except pikepdf.PdfError as error:
        return [f"unreadable: {error}"]
    return problems


def _fonts_of(resources, seen):
    """Every font reachable from ``resources``, through form XObjects and Type 3 fonts."""
    import pikepdf

    if not isinstance(resources, pikepdf.Dictionary):
        return
    if resources.is_indirect:
        if resources.objgen in seen:
            return
        seen.add(resources.objgen)
    for font in (resources.get("/Font") or {}).values():
        yield font
        if font.get("/Subtype") == "/Type3":
            yield from _fonts_of(font.get("/Resources"), seen)
    for xobject in (resources.get("/XObject") or {}).values():
        if xobject.get("/Subtype") == "/Form" and xobject.objgen not in seen:
            seen.add(xobject.objgen)
            yield from _fonts_of(xobject.get("/Resources"), seen)
    for pattern in (resources.get("/Pattern") or {}).values():
        yield from _fonts_of(pattern.get("/Resources"), seen)


def _font_problems(pdf) -> list[str]:
    missing, seen, checked = [], set(), set()
    for page in pdf.pages:
        for font in _fonts_of(page.obj.get("/Resources"), seen):
            if font.objgen in checked:
                continue
            checked.add(font.objgen)
            if font.get("/Subtype") == "/Type3":
                continue  # its glyphs are drawn by its own content streams
            described = font.DescendantFonts[0] if "/DescendantFonts" in font else font
            descriptor = described.get("/FontDescriptor") or {}
            if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
                name = str(font.get("/BaseFont", "?")).lstrip("/")
                if name not in missing:
                    missing.append(name)
    return [f"font not embedded: {name}" for name in missing]


def _active_problems(pdf) -> list[str]:
    found = set()
    for obj in pdf.objects:
        _active_in(obj, found, depth=0)
    return [f"active content: {key}" for key in sorted(found)]


def _active_in(obj, found: set, depth: int) -> None:
    """Add to ``found`` the forbidden keys and actions of ``obj`` and of the dictionaries and
    arrays written inside it (indirect ones are visited on their own by the caller's loop)."""
    import pikepdf

    if depth > 50:
        return
    if isinstance(obj, pikepdf.Array):
        values = list(obj)
    elif isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
        found |= set(obj.keys()) & _FORBIDDEN_KEYS
        action = obj.get("/S")
        if isinstance(action, pikepdf.Name) and str(action) in _FORBIDDEN_ACTIONS:
            found.add(str(action))
        values = [obj.get(key) for key in obj.keys()]
    else:
        return
    for value in values:
        if isinstance(value, pikepdf.Dictionary | pikepdf.Array) and not value.is_indirect:
            _active_in(value, found, depth + 1)


def check_fonts(app_configs=None, **kwargs):
    """System check: a Chinese font for the PDFs (certificates, reports, labels)."""
    problem = font_problem()
    if problem is None:
        return []
    return [checks.Error(problem, hint=_install_hint(), id="dangan.E001")]
