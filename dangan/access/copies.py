"""The PDF of a certified copy (档案证明): a cover page with the certificate number and a QR code
to ``/verify/<code>/``, then the record's pages, each with a visible watermark naming the
requester, the time and the request number.

The cover and the watermark are HTML rendered by WeasyPrint (Noto Sans CJK from Debian's
fonts-noto-cjk, so names in Chinese print); the watermark is laid over every page with pikepdf,
as text, so that ``pdftotext`` and a reader both see it. A page's searchable PDF (PDF/A, made by
the digitize pipeline) is used when there is one, else the scanned image or the PDF received.
"""

import io
import logging
from dataclasses import dataclass
from pathlib import Path

import segno
from django.template.loader import render_to_string

from dangan.content.models import Page
from dangan.content.selectors import open_blob
from dangan.pdf import render_pdf

logger = logging.getLogger(__name__)

STYLESHEET = Path(__file__).with_name("copies.css")
IMAGE_MIMES = {"image/jpeg", "image/png", "image/tiff", "image/jp2"}


@dataclass
class CopyContent:
    """What the cover page says; all of it already masked where it concerns persons."""

    number: str
    verify_url: str
    issuer: str
    issued_at: object
    summary: dict
    watermark: str
    request_number: str = ""


def qr_data_uri(url: str) -> str:
    return segno.make(url, error="m").svg_data_uri(scale=4, border=1)


def _html_pdf(template: str, context: dict) -> bytes:
    html = render_to_string(template, context)
    return render_pdf(html, stylesheets=[STYLESHEET])


def _page_pdf(page: Page) -> bytes | None:
    """One original page as PDF bytes: its searchable PDF, the PDF itself, or the image wrapped."""
    processing = getattr(page, "processing", None)
    blob = getattr(processing, "searchable_pdf", None) or page.blob
    with open_blob(blob) as stream:
        data = stream.read()
    if blob.mime == "application/pdf":
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


def build_copy(*, content: CopyContent, pages: list[Page]) -> bytes:
    """The whole certified copy as PDF bytes, the watermark on every page (cover included)."""
    import pikepdf

    cover = _html_pdf(
        "access/copy_cover.html",
        {
            "c": content,
            "qr": qr_data_uri(content.verify_url),
            "page_count": len(pages),
        },
    )
    watermark = pikepdf.open(
        io.BytesIO(_html_pdf("access/watermark.html", {"text": content.watermark}))
    )
    out = pikepdf.open(io.BytesIO(cover))
    # The sources stay open until the copy is saved: qpdf copies their streams when writing.
    sources = []
    for page in pages:
        data = _page_pdf(page)
        if data is not None:
            sources.append(pikepdf.open(io.BytesIO(data)))
            out.pages.extend(sources[-1].pages)
    stamp = out.copy_foreign(watermark.pages[0].as_form_xobject())
    for pdf_page in out.pages:
        pdf_page.add_overlay(stamp, pikepdf.Rectangle(*pdf_page.mediabox))
    buffer = io.BytesIO()
    out.docinfo["/Title"] = content.number
    out.docinfo["/Producer"] = "Dangan"
    out.save(buffer, deterministic_id=True)
    for source in sources:
        source.close()
    return buffer.getvalue()
