"""Format identification by content: the name of a file never decides what it is."""

import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from dangan.content.formats import Identifier, identify

from .conftest import jpeg, pdf


def zipped(*names: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<ofd:OFD/>" if name.endswith(".xml") else "data")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "mime"),
    [
        (b"II*\x00" + bytes(100), "TIFF", "image/tiff"),
        (b"MM\x00*" + bytes(100), "TIFF", "image/tiff"),
        (jpeg(), "JPEG", "image/jpeg"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n" + bytes(100), "JPEG 2000", "image/jp2"),
        (b"\x89PNG\r\n\x1a\n" + bytes(100), "PNG", "image/png"),
        (pdf(), "PDF", "application/pdf"),
        (b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(100), "WAV", "audio/wav"),
        (b"ID3\x04\x00" + bytes(100), "MP3", "audio/mpeg"),
        (b"\xff\xfb\x90\x64" + bytes(100), "MP3", "audio/mpeg"),
        (b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(100), "MP4", "video/mp4"),
        (zipped("OFD.xml", "Doc_0/Document.xml"), "OFD", "application/ofd"),
        (zipped("Doc_0/Document.xml", "OFD.xml"), "OFD", "application/ofd"),
    ],
)
def test_kept_formats_are_identified(data, name, mime):
    found = identify("whatever.bin", data)
    assert (found.name, found.mime) == (name, mime)


def test_a_jpeg_named_txt_is_accepted_as_jpeg():
    assert identify("scan.txt", jpeg()).name == "JPEG"


def test_pdf_version_and_pdfa_conformance_are_read():
    assert str(identify("a.pdf", pdf(version=b"1.4"))) == "PDF 1.4"
    xmp = b'<rdf:Description pdfaid:part="2" pdfaid:conformance="B"/>'
    assert str(identify("a.pdf", pdf(body=xmp))) == "PDF/A 2b"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"MZ\x90\x00" + bytes(500), "format_executable"),
        (b"\x7fELF\x02\x01\x01" + bytes(500), "format_executable"),
        (b"#!/bin/sh\nrm -rf /\n", "format_script"),
        (b"<?php echo 1; ?>", "format_script"),
        (b"\xef\xbb\xbf  <!DOCTYPE html><html><script>alert(1)</script>", "format_html"),
        (
            b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
            "format_html",
        ),
        (pdf(body=b"trailer\n<< /Size 9 /Root 1 0 R /Encrypt 5 0 R >>"), "format_encrypted_pdf"),
        (zipped("readme.txt", "photo.jpg"), "format_not_ofd"),
        (zipped("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"), "format_macro"),
        (zipped("[Content_Types].xml", "xl/workbook.xml", "xl/vbaProject.bin"), "format_macro"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "format_unknown"),
        (bytes(range(1, 32)) * 20, "format_unknown"),  # control characters: not text
        (b"text, then " + bytes(200) + b" a NUL", "format_unknown"),
        (b"", "format_empty"),
    ],
)
def test_what_cannot_be_kept_is_refused_with_the_reason(data, code):
    with pytest.raises(ValidationError) as refused:
        identify("upload.pdf", data)
    assert refused.value.code == code


def test_an_exe_renamed_pdf_is_refused_at_its_first_chunk_naming_the_file():
    identifier = Identifier("工资表.pdf")
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        identifier.feed(b"MZ" + bytes(1024 * 1024))
    assert "工资表.pdf" in refused.value.messages[0]
    assert "program" in refused.value.messages[0]


def test_encryption_marker_split_across_chunks_is_found():
    data = pdf(body=b"x" * 10_000 + b"/Encrypt 5 0 R")
    cut = data.index(b"/Encrypt") + 4
    identifier = Identifier("a.pdf")
    for chunk in (data[:cut], data[cut:]):
        identifier.feed(chunk)
    with pytest.raises(ValidationError):
        identifier.finish()


def test_an_office_file_that_unpacks_to_far_more_than_its_size_is_refused():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\x00" * (50 * 1024 * 1024))
    with pytest.raises(ValidationError) as refused:
        identify("炸弹.docx", buffer.getvalue())
    assert refused.value.code == "format_zip_bomb"


def test_an_opendocument_is_told_from_its_mimetype_entry():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    found = identify("表.ods", buffer.getvalue())
    assert (found.name, found.puid) == ("ODS", "fmt/294")


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
@pytest.mark.django_db
def test_a_password_protected_office_file_is_refused_and_nothing_is_kept(
    kind, make_record, archivist
):
    """Word and Excel encrypt a protected file into an OLE2 container (EncryptedPackage): the
    archive could never read it again, so it is refused with the reason and not stored."""
    import docx
    import openpyxl
    from msoffcrypto.format.ooxml import OOXMLFile

    from dangan.content.models import Blob, Page
    from dangan.content.services import add_files

    plain = io.BytesIO()
    if kind == "docx":
        document = docx.Document()
        document.add_paragraph("工资核定 机密")
        document.save(plain)
    else:
        book = openpyxl.Workbook()
        book.active.append(["姓名", "工资"])
        book.save(plain)
    plain.seek(0)
    locked = io.BytesIO()
    OOXMLFile(plain).encrypt("口令123", locked)

    with pytest.raises(ValidationError) as refused:
        identify(f"核定表.{kind}", locked.getvalue())
    assert refused.value.code == "format_encrypted_office"
    assert "protected by a password" in refused.value.messages[0]
    record = make_record()
    with pytest.raises(ValidationError):
        add_files(actor=archivist, record=record, files=[(f"核定表.{kind}", locked)])
    assert not Page.objects.filter(record=record).exists() and not Blob.objects.exists()
