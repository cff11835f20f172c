"""The PDF of a certified copy (档案证明): a cover page with the certificate number and a QR code
to ``/verify/<code>/``, then the record's pages, each with a visible watermark naming the
requester, the time and the request number.

The cover is HTML rendered by WeasyPrint (Noto Sans CJK from Debian's fonts-noto-cjk, so names
in Chinese print); the watermark is drawn as the outlines of its letters (``watermark.py``) and
laid over every page with pikepdf, so that a reader sees it and the text layer (``pdftotext``,
search, a screen reader) holds only the record's own words. A page's searchable PDF (PDF/A, made
by the digitize pipeline) is used when there is one, else the scanned image or the PDF received.

The copy is a PDF/A-2b (``dangan.pdf.finish_pdfa``, checked before it is kept): a received PDF
page that carries no font program or carries a script goes in as the image of its page.

A copy holds at least one page: ``printable_pages`` says which pages can be printed, and the
service refuses a copy of none. A certificate of the catalogue entry alone (a record held on
paper only) has a cover that says so and no pages (``CopyContent.entry_only``).
"""

import io
import logging
from dataclasses import dataclass
from pathlib import Path

import segno
from django.template.loader import render_to_string

from dangan.content.models import Page
from dangan.content.selectors import open_blob
from dangan.pdf import carried_problems, check_pdfa, finish_pdfa, render_pdf

from . import watermark

logger = logging.getLogger(__name__)

STYLESHEET = Path(__file__).with_name("copies.css")
IMAGE_MIMES = {"image/jpeg", "image/png", "image/tiff", "image/jp2"}


@dataclass
class CopyContent:
    """What the cover page says; already masked where it concerns persons other than the one
    the copy is delivered to (``certificates.summary_of``)."""

    number: str
    verify_url: str
    issuer: str
    issued_at: object
    summary: dict
    watermark: str
    request_number: str = ""
    #: A certificate of the catalogue entry of a record held on paper only: no pages follow.
    entry_only: bool = False


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=1)


def _html_pdf(template: str, context: dict) -> bytes:
    html = render_to_string(template, context)
    return render_pdf(html, stylesheets=[STYLESHEET], pdfa=True)


def _page_pdf(page: Page) -> bytes | None:
    """One original page as PDF bytes: its searchable PDF, the PDF itself, or the image wrapped."""
    processing = getattr(page, "processing", None)
    blob = getattr(processing, "searchable_pdf", None) or page.blob
    with open_blob(blob) as stream:
        data = stream.read()
    if blob.mime == "application/pdf":
        if carried_problems(data):  # fonts it does not carry, or scripts: not for a PDF/A
            return _as_images(data)
        return data
    if blob.mime in IMAGE_MIMES:
        import img2pdf

        try:
            return img2pdf.convert(data)
        except Exception:  # noqa: BLE001 - an image img2pdf cannot wrap: go through Pillow
            from PIL import Image

            out = io.BytesIO()
            Image.open(io.BytesIO(data)).convert("RGB").save(out, format="PDF")
            return out.getvalue()
    logger.info("page %s (%s) has no printable form; left out of the copy", page.pk, blob.mime)
    return None


def _as_images(data: bytes) -> bytes:
    """A received PDF that cannot go into a PDF/A as it is (a font not embedded, a script) as
    the images of its pages (``pdftoppm``, 200 dpi): the copy shows what the page shows."""
    import subprocess
    import tempfile

    import img2pdf

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(data)
        subprocess.run(
            ["pdftoppm", "-r", "200", "-jpeg", str(source), str(Path(folder) / "p")],
            check=True,
            capture_output=True,
            timeout=600,
        )
        images = [path.read_bytes() for path in sorted(Path(folder).glob("p*.jpg"))]
    return img2pdf.convert(images)


def printable_pages(pages: list[Page]) -> list[bytes]:
    """The PDF bytes of those of ``pages`` that can be printed, in their order."""
    return [data for data in map(_page_pdf, pages) if data is not None]


def build_copy(*, content: CopyContent, page_pdfs: list[bytes]) -> bytes:
    """The whole certified copy as PDF bytes, the watermark on every page (cover included).

    ``page_pdfs`` (from ``printable_pages``) must hold at least one page unless the copy
    certifies the catalogue entry alone; the cover states how many pages follow.
    """
    import pikepdf

    if not page_pdfs and not content.entry_only:
        raise ValueError("a certified copy needs pages")
    # The sources stay open until the copy is saved: qpdf copies their streams when writing.
    sources = [pikepdf.open(io.BytesIO(data)) for data in page_pdfs]
    page_count = sum(len(source.pages) for source in sources)
    cover = _html_pdf(
        "access/copy_cover.html",
        {"c": content, "qr": qr_data_uri(content.verify_url), "page_count": page_count},
    )
    out = pikepdf.open(io.BytesIO(cover))
    for source in sources:
        out.pages.extend(source.pages)
    lay_watermark(out, content.watermark)
    buffer = io.BytesIO()
    out.docinfo["/Title"] = content.number
    out.docinfo["/Producer"] = "Dangan"
    finish_pdfa(out)
    out.save(buffer, deterministic_id=True)
    for source in sources:
        source.close()
    pdf = buffer.getvalue()
    check_pdfa(pdf)
    return pdf


def lay_watermark(out, text: str) -> None:
    """Lay ``text`` as the watermark (outlines, never text) over every page of the pikepdf
    ``out``, scaled to each page."""
    import pikepdf

    stamp = out.make_indirect(watermark.form_xobject(out, text))
    for pdf_page in out.pages:
        pdf_page.add_overlay(stamp, pikepdf.Rectangle(*pdf_page.mediabox))


def stamped(page_pdfs: list[bytes], *, text: str, title: str) -> tuple[bytes, int]:
    """``page_pdfs`` (from ``printable_pages``) as one PDF with the watermark ``text`` over
    every page, and its number of pages. No cover and no PDF/A: the reading room's output of
    chosen pages (``outputs.pages_pdf``) certifies nothing and is not kept."""
    import pikepdf

    sources = [pikepdf.open(io.BytesIO(data)) for data in page_pdfs]
    out = pikepdf.new()
    for source in sources:
        out.pages.extend(source.pages)
    count = len(out.pages)
    lay_watermark(out, text)
    out.docinfo["/Title"] = title
    out.docinfo["/Producer"] = "Dangan"
    buffer = io.BytesIO()
    out.save(buffer, deterministic_id=True)
    for source in sources:
        source.close()
    return buffer.getvalue(), count
