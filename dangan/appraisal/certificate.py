"""The destruction certificate (销毁证明), printed as PDF once a list is approved and carried out.

Rendered by WeasyPrint from ``appraisal/certificate.html`` with Noto Sans CJK (Debian's
fonts-noto-cjk), like the box labels; a QR code (segno) carries the list's number and the
SHA-256 of its lines, so a printed copy can be matched with the kept list.
"""

import hashlib
from pathlib import Path

import segno
from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from dangan.pdf import render_pdf

from .models import DestructionList

STYLESHEET = Path(__file__).with_name("certificate.css")


def lines_digest(listing: DestructionList) -> str:
    """SHA-256 over the list's lines (code, title, year, retention), in order."""
    digest = hashlib.sha256()
    for item in listing.items.order_by("archival_code"):
        digest.update(
            f"{item.archival_code}\t{item.title}\t{item.year}\t{item.retention}\n".encode()
        )
    return digest.hexdigest()


def certificate_pdf(listing: DestructionList) -> bytes:
    digest = lines_digest(listing)
    html = render_to_string(
        "appraisal/certificate.html",
        {
            "listing": listing,
            "items": listing.items.order_by("archival_code"),
            "tombstones": listing.tombstones.order_by("archival_code"),
            "members": listing.batch.members.order_by("username"),
            "issuer": getattr(settings, "DANGAN_ISSUER_NAME", ""),
            "digest": digest,
            "qr": segno.make(f"{listing} sha256:{digest}", error="m").svg_data_uri(scale=3),
            "printed": timezone.localdate(),
        },
    )
    return render_pdf(html, stylesheets=[STYLESHEET], pdfa=True)
