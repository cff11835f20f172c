"""The inspection report (验收报告) as PDF, made from HTML by WeasyPrint with the CJK fonts."""

import base64
from pathlib import Path

from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from dangan.pdf import render_pdf

from .models import Fact, Inspection

STYLESHEET = Path(__file__).with_name("report.css")


def fact_rows(facts: dict) -> list[tuple[str, object]]:
    """The facts as (label, value) lines, in the order of ``Fact``."""
    rows = []
    for fact in Fact:
        if fact.value not in facts:
            continue
        value = facts[fact.value]
        if fact == Fact.NAMED_ARCHIVIST:
            value = ", ".join(facts.get("named_archivists") or []) or _("nobody")
        elif fact == Fact.ROOM_ALERTS:
            value = _("%(n)s (%(open)s still open; %(rooms)s rooms)") % {
                "n": value,
                "open": facts.get("room_alerts_open", 0),
                "rooms": facts.get("rooms", 0),
            }
        rows.append((fact.label, value))
    return rows


#: Photos printed per finding (all of them stay on the page and in the store).
PHOTOS_PER_FINDING = 4


def _data_uri(blob) -> str:
    from dangan.content.selectors import open_blob

    stream = open_blob(blob)
    try:
        data = stream.read()
    finally:
        stream.close()
    return f"data:{blob.mime};base64,{base64.b64encode(data).decode()}"


def inspection_pdf(inspection: Inspection) -> bytes:
    findings = list(inspection.findings.prefetch_related("photos__blob"))
    for finding in findings:
        finding.printed = [
            _data_uri(photo.blob) for photo in finding.photos.all()[:PHOTOS_PER_FINDING]
        ]
    html = render_to_string(
        "oversight/inspection_pdf.html",
        {
            "inspection": inspection,
            "facts": fact_rows(inspection.facts),
            "lines": inspection.scores.all(),
            "findings": findings,
        },
    )
    return render_pdf(html, stylesheets=[STYLESHEET])
