"""The one place Dangan renders a PDF from HTML (WeasyPrint): certificates, reports, labels, copies.

Without a Chinese font, WeasyPrint does not fail: it draws an empty box (the font's ``.notdef``
glyph) for every character and logs a warning, and the text layer stays right, so the PDF looks
fine to a program and is useless to a person. So a PDF is refused instead: before rendering when
fontconfig knows no Chinese font, and after rendering when any character was drawn as
``.notdef``. The refusal is a ``ValidationError`` with a translated message that says what to
install; views show it as they show any other error, and nothing is written.

``font_problem()`` is also a system check (``dangan check``, and ``dangan run`` at start).
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


def render_pdf(html: str, *, stylesheets=(), css: str = "") -> bytes:
    """The PDF of ``html`` with the stylesheet files ``stylesheets`` (and the CSS text ``css``).

    Raises ``ValidationError`` (code ``missing_font``) when a character would be drawn as an
    empty box."""
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
        pdf = HTML(string=html).write_pdf(stylesheets=sheets)
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
    return pdf


def check_fonts(app_configs=None, **kwargs):
    """System check: a Chinese font for the PDFs (certificates, reports, labels)."""
    problem = font_problem()
    if problem is None:
        return []
    return [checks.Error(problem, hint=_install_hint(), id="dangan.E001")]
