"""Box labels as PDF: the box cover label, the spine label (盒脊) and the box note (备考表).

Rendered by WeasyPrint from ``stacks/labels.html`` with ``labels.css`` (Noto Sans CJK from
Debian's fonts-noto-cjk); the box code is printed as a QR code (segno) that the inventory's
scanner reads back. The HTML is only ever given to WeasyPrint, never served to a browser.
"""

from pathlib import Path

import segno
from django.template.loader import render_to_string
from django.utils import timezone

from dangan.pdf import render_pdf

from .models import Box
from .selectors import box_for_label

STYLESHEET = Path(__file__).with_name("labels.css")


def qr_data_uri(code: str) -> str:
    return segno.make(code, error="m").svg_data_uri(scale=4, border=1)


def box_labels_pdf(boxes: list[Box]) -> bytes:
    """One PDF with, for each box, its cover label, its spine label and its box note."""
    sizes = "".join(
        f"@page spine-{spine} {{ size: {spine}mm 310mm; margin: 3mm 2mm; }}\n"
        f".spine-{spine} {{ page: spine-{spine}; width: {spine - 4}mm; }}\n"
        for spine in sorted({b.spine for b in boxes})
    )
    html = render_to_string(
        "stacks/labels.html",
        {
            "boxes": [
                {"box": b, "qr": qr_data_uri(b.code), "contents": box_for_label(b)} for b in boxes
            ],
            "printed": timezone.localdate(),
        },
    )
    return render_pdf(html, stylesheets=[STYLESHEET], css=sizes)
