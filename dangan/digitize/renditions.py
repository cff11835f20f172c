"""Born-digital documents (电子文件) to PDF/A-2b, by LibreOffice headless.

The original is kept as received; the rendition is the long-term copy that the viewer shows and
the search reads. Each conversion asks the export filter of the document's kind (Writer, Calc,
Impress) for PDF/A-2 (``SelectPdfVersion`` 2). By default (``DANGAN_CONVERTER=warm``) it goes to
this worker process's warm converter (``warm_converter``: one LibreOffice kept running through
unoserver, restarted after a hang); where unoserver or LibreOffice's Python bridge is missing,
or with ``DANGAN_CONVERTER=soffice``, each file runs ``soffice --convert-to pdf`` in its own
process group. Either way a document that makes LibreOffice hang is stopped, and its processes
killed, after ``DANGAN_CONVERT_TIMEOUT`` seconds. Each worker process keeps its own LibreOffice
profile, so two workers never share one (LibreOffice locks it).

What comes back is checked before it is kept: it must be PDF/A-2b by our own format
identification (the XMP ``pdfaid`` entries, no active content), else the conversion failed.
"""

import functools
import logging
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from dangan.content.formats import identify

from . import warm_converter

log = logging.getLogger(__name__)

#: The export filter of each kind of document, and the suffix LibreOffice is given.
_FILTERS = {
    "DOCX": ("writer_pdf_Export", ".docx"),
    "DOC": ("writer_pdf_Export", ".doc"),
    "WPS": ("writer_pdf_Export", ".doc"),
    "ODT": ("writer_pdf_Export", ".odt"),
    "RTF": ("writer_pdf_Export", ".rtf"),
    "XLSX": ("calc_pdf_Export", ".xlsx"),
    "XLS": ("calc_pdf_Export", ".xls"),
    "ET": ("calc_pdf_Export", ".xls"),
    "ODS": ("calc_pdf_Export", ".ods"),
    "PPTX": ("impress_pdf_Export", ".pptx"),
    "PPT": ("impress_pdf_Export", ".ppt"),
    "ODP": ("impress_pdf_Export", ".odp"),
}
_PDFA_2 = '{"SelectPdfVersion":{"type":"long","value":"2"}}'


class ConversionFailed(Exception):
    """LibreOffice could not make a PDF/A of the document; the message says why."""


def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        raise ConversionFailed(
            _("LibreOffice is not installed (Debian: libreoffice-writer-nogui, -calc-nogui).")
        )
    return found


@functools.cache
def converter() -> str:
    """The converter's name and version as the preservation events record it, e.g.
    "LibreOffice 7.4.7.2"."""
    done = subprocess.run([soffice(), "--version"], capture_output=True, timeout=60, check=False)
    words = done.stdout.decode("utf-8", "replace").split()
    return " ".join(words[:2]) if len(words) >= 2 else "LibreOffice"


def warm() -> bool:
    """Whether conversions go to the warm converter (settings and what is installed)."""
    return settings.DANGAN_CONVERTER == "warm" and warm_converter.available()


def _profile() -> Path:
    """This process's own LibreOffice profile (made on first use, reused after)."""
    folder = Path(tempfile.gettempdir()) / f"dangan-libreoffice-{os.getuid()}-{os.getpid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def render_pdfa(data: bytes, *, format_name: str, timeout: int | None = None) -> bytes:
    """The PDF/A-2b rendition of a document of ``format_name`` (a name from
    ``content.formats.RENDERED``); ``ConversionFailed`` with the reason otherwise."""
    export, suffix = _FILTERS[format_name]
    timeout = timeout or settings.DANGAN_CONVERT_TIMEOUT
    pdf = None
    if warm():
        try:
            pdf = _render_warm(data, export=export, timeout=timeout)
        except warm_converter.ConverterUnavailable as error:
            log.warning("warm converter unavailable (%s): one soffice per file", error)
    if pdf is None:
        pdf = _render_cold(data, export=export, suffix=suffix, timeout=timeout)
    try:
        found = identify("rendition.pdf", pdf)
    except ValidationError as error:
        raise ConversionFailed(" ".join(error.messages)) from None
    if (found.name, found.version) != ("PDF/A", "2b"):
        raise ConversionFailed(
            _("LibreOffice made %(format)s, not PDF/A-2b.") % {"format": str(found)}
        )
    return pdf


def _render_warm(data: bytes, *, export: str, timeout: int) -> bytes:
    running = warm_converter.for_this_process(profile=_profile() / "warm", soffice=soffice())
    try:
        return running.convert(
            data, export_filter=export, options=["SelectPdfVersion=2"], timeout=timeout
        )
    except TimeoutError:
        raise ConversionFailed(
            _("LibreOffice did not finish within %(seconds)d seconds.") % {"seconds": timeout}
        ) from None
    except RuntimeError as error:
        raise ConversionFailed(
            _("LibreOffice could not open the document.") + f" ({error})"
        ) from None
    except OSError as error:  # the server went away mid-way: it is started again next time
        raise ConversionFailed(
            _("LibreOffice could not open the document.") + f" ({error})"
        ) from None


def _render_cold(data: bytes, *, export: str, suffix: str, timeout: int) -> bytes:
    """One ``soffice --convert-to`` for this document."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / f"document{suffix}"
        source.write_bytes(data)
        command = [
            soffice(),
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--nodefault",
            f"-env:UserInstallation={_profile().as_uri()}",
            "--convert-to",
            f"pdf:{export}:{_PDFA_2}",
            "--outdir",
            folder,
            str(source),
        ]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True
        )
        try:
            _out, errors = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise ConversionFailed(
                _("LibreOffice did not finish within %(seconds)d seconds.") % {"seconds": timeout}
            ) from None
        made = source.with_suffix(".pdf")
        if process.returncode != 0 or not made.exists() or made.stat().st_size == 0:
            reason = errors.decode("utf-8", "replace").strip()[-300:]
            raise ConversionFailed(
                _("LibreOffice could not open the document.") + (f" ({reason})" if reason else "")
            )
        return made.read_bytes()
