"""The digitization pipeline: every original page walks the same steps, in the background.

check the image → read it (OCR) → thumbnail and preview → searchable PDF/A → metadata
suggestions → index. Each page's progress is a ``PageProcessing`` row. A worker *claims* a page
with one UPDATE (pending → running), so two workers never read the same page; a page whose
worker died stays ``running`` until its lease runs out and is then claimed again; a failure is
retried up to ``MAX_ATTEMPTS`` times and then shown as failed with its reason.
"""

import datetime
import io
import logging
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.catalogue.signals import records_changed
from dangan.content import services as content_services
from dangan.content.formats import RENDERED
from dangan.content.models import Page
from dangan.content.selectors import open_blob
from dangan.pdf import render_pdf

from . import image_checks, ofd, renditions, searchable_pdf, suggestions, textual, thumbnails
from .models import PageProcessing
from .ocr import get_engine

log = logging.getLogger(__name__)

#: How long a claimed page may take before another worker may take it over (the default of
#: ``DANGAN_WORK_LEASE_SECONDS``).
LEASE = datetime.timedelta(minutes=15)
MAX_ATTEMPTS = 3
#: Rendering resolution for PDF pages that carry no text of their own.
PDF_RENDER_DPI = 200
IMAGE_FORMATS = {"TIFF", "JPEG", "JPEG 2000", "PNG"}

State = PageProcessing.State


def queue_pages(pages, *, batch=None) -> list[PageProcessing]:
    """Put original ``pages`` into the pipeline (once each) and start their processing on commit."""
    rows = []
    for page in pages:
        row, _created = PageProcessing.objects.get_or_create(page=page, defaults={"batch": batch})
        rows.append(row)
    ids = [row.pk for row in rows if row.state == State.PENDING]
    if ids:
        transaction.on_commit(lambda: _enqueue(ids))
    return rows


def _enqueue(ids):
    from .tasks import process_page_task

    for pk in ids:
        process_page_task.enqueue(pk)


def resume_unfinished() -> int:
    """Enqueue every page still waiting, or held by a worker whose lease ran out (a crash)."""
    ids = list(_claimable().values_list("pk", flat=True))
    _enqueue(ids)
    return len(ids)


def retry_failed(*, pages=None) -> int:
    """Give failed pages another round of attempts; returns how many were queued."""
    failed = PageProcessing.objects.filter(state=State.FAILED)
    if pages is not None:
        failed = failed.filter(page__in=pages)
    ids = list(failed.values_list("pk", flat=True))
    failed.update(state=State.PENDING, attempts=0, error="")
    transaction.on_commit(lambda: _enqueue(ids))
    return len(ids)


def _lease() -> datetime.timedelta:
    return datetime.timedelta(seconds=settings.DANGAN_WORK_LEASE_SECONDS)


def release_expired(*, limit: int = 1000) -> int:
    """Give back the pages of workers that died (their lease ran out): queued again, or failed
    when they have had ``MAX_ATTEMPTS`` tries (a page that kills its worker must not loop).

    Each page is released by one conditional UPDATE, so when every worker sweeps at once a page
    is still queued once. ``dangan worker`` calls this every minute. Returns how many.
    """
    stale = timezone.now() - _lease()
    expired = PageProcessing.objects.filter(state=State.RUNNING, claimed_at__lt=stale)
    queued = []
    for pk, attempts in expired.values_list("pk", "attempts")[:limit]:
        gave_up = attempts >= MAX_ATTEMPTS
        released = expired.filter(pk=pk).update(
            state=State.FAILED if gave_up else State.PENDING,
            error=_("The worker reading this page stopped.") if gave_up else "",
        )
        if released and not gave_up:
            queued.append(pk)
    if queued:
        log.info("released %s pages of stopped workers", len(queued))
        _enqueue(queued)
    return len(queued)


def _claimable():
    stale = timezone.now() - _lease()
    return PageProcessing.objects.filter(
        Q(state=State.PENDING) | Q(state=State.RUNNING, claimed_at__lt=stale)
    )


def claim(pk) -> bool:
    """Take page ``pk`` for this worker; False when another worker has it or it is finished."""
    return _claim(pk) is not None


def _claim(pk):
    """Claim page ``pk``; the claim's time, which only this claim holds, or None."""
    now = timezone.now()
    taken = (
        _claimable()
        .filter(pk=pk)
        .update(state=State.RUNNING, claimed_at=now, attempts=F("attempts") + 1)
    )
    return now if taken else None


def process_page(pk) -> str | None:
    """Run the pipeline on one claimed page; returns its new state (None if not claimed).

    The result is saved only while this worker still holds its claim: a worker that outlived
    its lease finds the page taken over and leaves the other worker's result alone, so a page
    is done once whatever happens to the workers.
    """
    claimed_at = _claim(pk)
    if claimed_at is None:
        return None
    held = PageProcessing.objects.filter(pk=pk, state=State.RUNNING, claimed_at=claimed_at)
    row = PageProcessing.objects.select_related("page__blob", "page__record").get(pk=pk)
    try:
        results = _read(row.page)
        with transaction.atomic():
            done = {"state": State.DONE, "error": "", "updated_at": timezone.now()}
            if not held.update(**done, **results):
                log.warning("page %s was taken over by another worker", row.page_id)
                return None
            if row.page.blob.format_name in RENDITION_AGENTS:
                content_services.record_rendition(
                    original=row.page,
                    blob=results["searchable_pdf"],
                    agent=_agent(row.page.blob.format_name),
                )
            _reindex(row.page.record_id)
    except Exception as error:  # a bad file or a broken engine: recorded on the page, retried
        log.warning("page %s failed (attempt %s): %s", row.page_id, row.attempts, error)
        state = State.FAILED if row.attempts >= MAX_ATTEMPTS else State.PENDING
        reason = str(error) if isinstance(error, renditions.ConversionFailed) else ""
        reason = reason or f"{type(error).__name__}: {error}"
        if not held.update(state=state, error=reason[:2000]):
            return None
        if state == State.FAILED and row.page.blob.format_name in RENDITION_AGENTS:
            content_services.record_rendition_failure(
                original=row.page, agent=_agent(row.page.blob.format_name), reason=reason
            )
        if state == State.PENDING:
            transaction.on_commit(lambda: _enqueue([pk]))
        return state
    return State.DONE


def read_now(pages) -> dict[str, int]:
    """Read ``pages`` in this process, as a worker would, beside any running worker (a page a
    worker holds is left to it); returns how many are in each state afterwards. A command
    that must leave its pages read (``dangan demo``) calls this instead of waiting for the
    worker; the task queued for each page then finds it done."""
    rows = PageProcessing.objects.filter(page__in=pages)
    while ids := list(_claimable().filter(page__in=pages).values_list("pk", flat=True)):
        for pk in ids:
            process_page(pk)
    counts = dict.fromkeys(State.values, 0)
    for state in rows.values_list("state", flat=True):
        counts[state] += 1
    return counts


def _read(page: Page) -> dict:
    """Everything the pipeline makes of one page, ready to save on its ``PageProcessing``."""
    blob = page.blob
    with open_blob(blob) as stream:
        data = stream.read()
    if blob.format_name in IMAGE_FORMATS:
        return _read_images([data], page=page, checks_of=data)
    if blob.format_name in RENDERED:
        return _read_born_digital(page, data)
    if blob.format_name == "OFD":
        return _read_ofd(page, data)
    if blob.format_name == "TXT":
        return {"text": textual.decode_text(data), "engine": "text"}
    if blob.format_name == "EML":
        return {"text": textual.mail_text(data), "engine": "email"}
    if blob.format_name == "PDF":
        text = _pdf_text(data)
        if text.strip():  # a born-digital PDF: its own text is better than any OCR
            return {"text": text, "engine": "pdftotext", **_pdf_thumbnails(page, data)}
        return _read_images(_render_pdf(data), page=page, checks_of=None)
    return {"text": "", "engine": ""}  # sound, video: nothing to read here


def _read_born_digital(page: Page, data: bytes) -> dict:
    """A Word, Excel, WPS … document: its PDF/A-2b rendition (LibreOffice), whose text is the
    document's own (no OCR) and whose first page gives the thumbnails."""
    pdf = renditions.render_pdfa(data, format_name=page.blob.format_name)
    text = _pdf_text(pdf)
    return {
        "text": text,
        "engine": "libreoffice",
        "suggestions": _suggestions(page, text),
        "searchable_pdf": content_services.keep_bytes(name=f"{page.pk}.pdf", data=pdf),
        **_pdf_thumbnails(page, pdf),
    }


def _read_ofd(page: Page, data: bytes) -> dict:
    """An OFD: its text from its own XML, and its pages drawn again as a PDF/A-2b rendition
    (``digitize.ofd``), which the viewer shows and the thumbnails come from."""
    pages = ofd.read_ofd(io.BytesIO(data))
    if not pages:
        raise ofd.OfdError(_("The OFD has no pages."))
    text = ofd.ofd_text(pages)
    pdf = render_pdf(ofd.ofd_html(pages, title=page.record.title), pdfa=True)
    return {
        "text": text,
        "engine": "ofd",
        "suggestions": _suggestions(page, text),
        "searchable_pdf": content_services.keep_bytes(name=f"{page.pk}.pdf", data=pdf),
        **_pdf_thumbnails(page, pdf),
    }


#: Formats whose original gets a rendition (a page of role ``rendition`` and a preservation
#: event), and the program named as its agent.
RENDITION_AGENTS = {name: "libreoffice" for name in RENDERED} | {"OFD": "ofd"}


def _agent(format_name: str) -> str:
    """The program that renders ``format_name``, with its version, e.g. "LibreOffice 7.4.7.2"
    or "Dangan OFD reader (WeasyPrint 70.0)"."""
    if RENDITION_AGENTS.get(format_name) == "ofd":
        import weasyprint

        return f"Dangan OFD reader (WeasyPrint {weasyprint.__version__})"
    try:
        return renditions.converter()
    except renditions.ConversionFailed:
        return "LibreOffice"


def _read_images(images: list[bytes], *, page: Page, checks_of: bytes | None) -> dict:
    engine = get_engine()
    read = [engine.recognize(image) for image in images]
    text = "\n\f\n".join(result.text for result in read)
    results = {
        "engine": engine.name,
        "text": text,
        "lines": read[0].as_dict() if len(read) == 1 else {"pages": [r.as_dict() for r in read]},
        "confidence": sum(r.confidence for r in read) / len(read) if read else None,
        "suggestions": _suggestions(page, text),
    }
    if checks_of is not None:
        check = image_checks.check_page(checks_of)
        results["checks"] = {
            "width": check.width,
            "height": check.height,
            "dpi": round(check.dpi),
            "dpi_source": check.dpi_source,
            "blank": check.blank,
            "skew_degrees": round(check.skew_degrees, 2),
            "warnings": [{"code": w.code, "message": w.message} for w in check.warnings],
        }
    pdf = searchable_pdf.build_searchable_pdf(
        [
            searchable_pdf.ScannedPage(image=image, text=r)
            for image, r in zip(images, read, strict=True)
        ],
        title=page.record.title,
    )
    results["searchable_pdf"] = content_services.keep_bytes(name=f"{page.pk}.pdf", data=pdf)
    results.update(_thumbnails(page, images[0]))
    return results


def _thumbnails(page: Page, image: bytes) -> dict:
    made = thumbnails.make_thumbnails(image, format="JPEG")
    return {
        "thumbnail": content_services.keep_bytes(name=f"{page.pk}-s.jpg", data=made["small"]),
        "preview": content_services.keep_bytes(name=f"{page.pk}-m.jpg", data=made["medium"]),
    }


def _suggestions(page: Page, text: str) -> dict:
    found = suggestions.suggest_metadata(text)
    comparison = suggestions.compare_with_record(record=page.record, id_numbers=found.id_numbers)
    return {
        "id_numbers": [n.number for n in found.id_numbers],
        "names": found.names,
        "dates": [{"date": d.date.iso, "label": d.label} for d in found.dates],
        "id_mismatch": comparison.differs,
        "messages": comparison.messages(),
    }


def _pdf_text(data: bytes) -> str:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as source:
        source.write(data)
        source.flush()
        done = subprocess.run(
            ["pdftotext", "-layout", "-enc", "UTF-8", source.name, "-"],
            capture_output=True,
            timeout=300,
            check=False,
        )
    if done.returncode != 0:
        raise ValueError(_("The PDF cannot be read: %(error)s") % {"error": done.stderr[:200]})
    return done.stdout.decode("utf-8", "replace")


def _render_pdf(data: bytes) -> list[bytes]:
    """The PDF's pages as PNG images, for reading a scanned PDF without a text layer."""
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(data)
        subprocess.run(
            ["pdftoppm", "-r", str(PDF_RENDER_DPI), "-png", str(source), str(Path(folder) / "p")],
            check=True,
            capture_output=True,
            timeout=600,
        )
        return [path.read_bytes() for path in sorted(Path(folder).glob("p*.png"))]


def _pdf_thumbnails(page: Page, data: bytes) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in.pdf"
        source.write_bytes(data)
        subprocess.run(
            [
                "pdftoppm",
                "-r",
                "72",
                "-png",
                "-f",
                "1",
                "-l",
                "1",
                str(source),
                str(Path(folder) / "t"),
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        first = next(Path(folder).glob("t*.png")).read_bytes()
    return _thumbnails(page, first)


def _reindex(record_id) -> None:
    """Tell the search index the record's text changed (``catalogue.signals.records_changed``)."""
    records_changed.send(sender=Page, record_ids=[record_id])


#: What a born-digital original becomes (``content.formats.RENDERED``).
RENDITION_FORMAT = "PDF/A-2b"


def attach_files(*, actor, record, paths: list[Path], wait: bool = False) -> list[dict]:
    """``dangan attach``: add the files at ``paths`` to ``record``, each on its own — a refused
    file (with the reason) leaves the others kept. One line a file: ``file``, ``state`` (kept or
    refused, then ``reason``), ``format``, ``puid`` and ``rendition`` (null, or its ``format``
    and ``state`` in the pipeline). With ``wait`` the renditions are made here and now, as a
    worker would, instead of by the worker."""
    if record.state == record.State.DESTROYED:
        raise ValidationError(
            _("%(record)s was destroyed; nothing can be added to it.") % {"record": record},
            code="record_destroyed",
        )
    lines = []
    for path in paths:
        line = {"file": path.name, "state": "kept", "format": "", "puid": "", "rendition": None}
        try:
            with open(path, "rb") as stream:
                (page,) = content_services.add_files(
                    actor=actor, record=record, files=[(path.name, stream)]
                )
        except OSError as error:
            line.update(
                state="refused",
                reason=_("It cannot be read: %(error)s") % {"error": error.strerror or error},
            )
        except ValidationError as error:
            line.update(state="refused", reason=" ".join(error.messages))
        else:
            line.update(format=page.blob.format_label, puid=page.blob.puid, page=page)
        lines.append(line)
    for line in lines:
        page = line.pop("page", None)
        if page is None or page.blob.format_name not in RENDERED:
            continue
        row = PageProcessing.objects.get(page=page)
        if wait:
            process_page(row.pk)
            row.refresh_from_db()
        line["rendition"] = {"format": RENDITION_FORMAT, "state": row.state}
        if row.state == State.FAILED:
            line["rendition"]["reason"] = row.error
    return lines
