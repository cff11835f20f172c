"""Born-digital documents: kept as received, rendered to PDF/A-2b by LibreOffice, found by their
words. Real .docx/.xlsx made here with python-docx and openpyxl, converted for real."""

import io
import json
import shutil
import subprocess
import zipfile

import docx
import openpyxl
import pikepdf
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from dangan.audit.models import AuditEvent
from dangan.content.models import Page, PreservationEvent
from dangan.content.selectors import open_blob
from dangan.content.services import add_files
from dangan.digitize import renditions, services
from dangan.digitize.models import PageProcessing
from dangan.integrity.models import LedgerEntry
from dangan.search.selectors import search

pytestmark = pytest.mark.skipif(
    shutil.which("soffice") is None, reason="LibreOffice (libreoffice-writer-nogui) is missing"
)


def word_document(*paragraphs: str) -> bytes:
    document = docx.Document()
    document.add_heading(paragraphs[0], 1)
    for text in paragraphs[1:]:
        document.add_paragraph(text)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def workbook(rows) -> bytes:
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def binary_form(folder, data: bytes, suffix: str, target: str) -> bytes:
    """``data`` saved by LibreOffice in its old binary form (``doc``, ``xls``)."""
    (folder / f"in.{suffix}").write_bytes(data)
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation={(folder / 'profile').as_uri()}",
            "--convert-to",
            target,
            "--outdir",
            str(folder),
            str(folder / f"in.{suffix}"),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return (folder / f"in.{target}").read_bytes()


def process(page) -> PageProcessing:
    row = PageProcessing.objects.get(page=page)  # the upload queued it
    services.process_page(row.pk)
    row.refresh_from_db()
    return row


def read(blob) -> bytes:
    with open_blob(blob) as stream:
        return stream.read()


def fonts(pdf: bytes) -> str:
    return subprocess.run(
        ["pdffonts", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode()


@pytest.mark.django_db(transaction=True)
def test_a_word_document_is_kept_as_received_with_a_pdfa_rendition_found_by_its_words(
    make_record, archivist, client
):
    record = make_record()
    original = word_document("关于张卫国同志退休待遇核定的请示", "经审核，同意按月发放基本养老金。")
    (page,) = add_files(actor=archivist, record=record, files=[("请示.docx", io.BytesIO(original))])
    assert (page.blob.format_name, page.blob.puid) == ("DOCX", "fmt/412")
    assert read(page.blob) == original  # the original, byte for byte

    row = process(page)
    assert row.state == "done", row.error
    rendition = Page.objects.get(derived_from=page, role=Page.Role.RENDITION)
    pdf = read(rendition.blob)
    assert (rendition.blob.format_name, rendition.blob.format_version) == ("PDF/A", "2b")
    assert rendition.blob.puid == "fmt/477" and rendition.filename == "请示.pdf"
    with pikepdf.open(io.BytesIO(pdf)) as opened:
        assert "/OutputIntents" in opened.Root
    assert "NotoSansCJK" in fonts(pdf) or "NotoSerifCJK" in fonts(pdf)  # glyphs, not boxes
    assert all(line.split()[-5] == "yes" for line in fonts(pdf).splitlines()[2:])  # embedded
    assert "同意按月发放基本养老金" in row.text.replace(" ", "")

    event = PreservationEvent.objects.get(page=page)
    assert (event.kind, event.outcome, event.source, event.result) == (
        "migration",
        "success",
        page.blob,
        rendition.blob,
    )
    assert event.agent.startswith("LibreOffice ") and event.agent == renditions.converter()
    entry = LedgerEntry.objects.get(kind="content.rendered")
    assert entry.subject == f"blob:{rendition.blob.sha256}"
    assert json.loads(entry.details)["from"] == f"sha256:{page.blob.sha256}"
    assert AuditEvent.objects.filter(detail__change="rendition_made").count() == 1

    assert [hit.record for hit in search(archivist, "按月发放基本养老金").hits] == [record]

    client.force_login(archivist)
    shown = client.get(reverse("catalogue:record-detail", args=[record.pk])).content.decode()
    assert "fmt/412" in shown and "请示.pdf" in shown and event.agent in shown


@pytest.mark.django_db(transaction=True)
def test_a_spreadsheet_and_its_old_binary_forms_are_rendered(make_record, tmp_path):
    record = make_record()
    xlsx = workbook([["姓名", "养老金核定数额"], ["李秀英", 2345.6]])
    (sheet,) = add_files(actor=None, record=record, files=[("核定表.xlsx", io.BytesIO(xlsx))])
    assert (sheet.blob.format_name, sheet.blob.puid) == ("XLSX", "fmt/214")
    row = process(sheet)
    assert row.state == "done", row.error
    assert "养老金核定数额" in row.text.replace(" ", "")

    # The same workbook as Excel 97-2003 and a Word file as .doc, as LibreOffice writes them;
    # a .wps or .et is the same binary format under another name.
    xls = binary_form(tmp_path, xlsx, "xlsx", "xls")
    doc = binary_form(tmp_path, word_document("劳动合同备案表"), "docx", "doc")
    old = add_files(
        actor=None,
        record=record,
        files=[
            ("旧表.et", io.BytesIO(xls)),
            ("备案.wps", io.BytesIO(doc)),
        ],
    )
    assert [(p.blob.format_name, p.blob.puid) for p in old] == [
        ("XLS", "fmt/61"),
        ("DOC", "fmt/40"),
    ]
    assert [process(p).state for p in old] == ["done", "done"]
    assert "劳动合同备案表" in PageProcessing.objects.get(page=old[1]).text.replace(" ", "")
    assert Page.objects.filter(record=record, role=Page.Role.RENDITION).count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_document_libreoffice_cannot_open_is_kept_and_its_failure_shown(
    make_record, archivist, client, tmp_path
):
    record = make_record()
    doc = binary_form(tmp_path, word_document("损坏的文件"), "docx", "doc")
    start = doc.index(b"\xec\xa5")  # the Word stream's header (FIB): its magic and version
    broken = doc[:start] + b"\xff" * 10 + doc[start + 10 :]
    (page,) = add_files(actor=None, record=record, files=[("坏.doc", io.BytesIO(broken))])
    row = PageProcessing.objects.get(page=page)
    states = [services.process_page(row.pk) for _ in range(services.MAX_ATTEMPTS)]
    assert states[-1] == "failed"
    assert read(page.blob) == broken  # the original is still kept
    assert not Page.objects.filter(derived_from=page).exists()
    failure = PreservationEvent.objects.get(page=page)
    assert failure.outcome == "failure" and failure.result is None and failure.detail
    client.force_login(archivist)
    shown = client.get(reverse("catalogue:record-detail", args=[record.pk])).content.decode()
    assert failure.detail[:30] in shown


def test_a_conversion_that_hangs_is_stopped(settings):
    with pytest.raises(renditions.ConversionFailed, match="did not finish"):
        renditions.render_pdfa(word_document("超时"), format_name="DOCX", timeout=0.01)


@pytest.mark.django_db
def test_a_macro_enabled_document_is_refused_and_audited(make_record, archivist):
    record = make_record()
    document = word_document("带宏的文件")
    buffer = io.BytesIO()

    with (
        zipfile.ZipFile(io.BytesIO(document)) as source,
        zipfile.ZipFile(buffer, "w") as target,
    ):
        for item in source.infolist():
            target.writestr(item, source.read(item))
        target.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0 a VBA project")
    with pytest.raises(ValidationError) as refused:
        add_files(
            actor=archivist, record=record, files=[("宏.docm", io.BytesIO(buffer.getvalue()))]
        )
    assert refused.value.error_list[0].code == "format_macro"
    assert "宏.docm" in refused.value.messages[0]
    assert not Page.objects.filter(record=record).exists()
    assert AuditEvent.objects.filter(action="refuse", detail__reason="format_macro").exists()
