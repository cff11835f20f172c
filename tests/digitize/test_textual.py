"""Plain text and e-mail: kept as received, identified by content with their PRONOM ids, their
own words read (no OCR) and found by search; an e-mail carrying a program is refused."""

import io
from email.message import EmailMessage

import pytest
from django.core.exceptions import ValidationError

from dangan.content.formats import identify
from dangan.content.selectors import open_blob
from dangan.content.services import add_files
from dangan.digitize import services
from dangan.digitize.models import PageProcessing
from dangan.search.selectors import search


def mail(*, attachment: tuple[str, bytes] | None = None) -> bytes:
    message = EmailMessage()
    message["From"] = "县社保中心 <sbzx@example.gov.cn>"
    message["To"] = "档案室 <dangan@example.gov.cn>"
    message["Subject"] = "关于补缴养老保险费的函"
    message["Date"] = "Tue, 01 Dec 2026 09:30:00 +0800"
    message.set_content("经核实，同意为罗凤秀补缴二〇〇一年度养老保险费。\n")
    message.add_alternative("<p>经核实，同意为<b>罗凤秀</b>补缴养老保险费。</p>", subtype="html")
    if attachment:
        name, data = attachment
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message.as_bytes()


def read(page) -> PageProcessing:
    row = PageProcessing.objects.get(page=page)
    services.process_page(row.pk)
    row.refresh_from_db()
    return row


@pytest.mark.django_db(transaction=True)
def test_a_text_file_and_an_email_are_kept_read_and_found(make_record, archivist):
    record = make_record(title="补缴养老保险费")
    text = "关于张卫国同志工龄认定的说明\r\n经查档，其1978年参加工作。\r\n".encode("gb18030")
    message = mail(attachment=("明细表.xlsx", b"PK\x03\x04 not opened here"))
    note, letter = add_files(
        actor=archivist,
        record=record,
        files=[("说明.txt", io.BytesIO(text)), ("来函.eml", io.BytesIO(message))],
    )
    assert (note.blob.format_name, note.blob.puid, note.blob.mime) == (
        "TXT",
        "x-fmt/111",
        "text/plain",
    )
    assert (letter.blob.format_name, letter.blob.puid) == ("EML", "fmt/950")
    with open_blob(letter.blob) as stream:
        assert stream.read() == message  # the original, byte for byte

    assert "1978年参加工作" in read(note).text
    row = read(letter)
    assert row.state == "done" and row.engine == "email"
    assert "Subject: 关于补缴养老保险费的函" in row.text
    assert "同意为罗凤秀补缴二〇〇一年度养老保险费" in row.text
    assert "明细表.xlsx" in row.text and "<b>" not in row.text
    assert [hit.record for hit in search(archivist, "补缴二〇〇一年度养老保险费").hits] == [record]
    assert [hit.record for hit in search(archivist, "工龄认定").hits] == [record]


def test_an_email_carrying_a_program_is_refused():
    with pytest.raises(ValidationError) as refused:
        identify("来函.eml", mail(attachment=("setup.exe", b"MZ\x90\x00" + bytes(200))))
    assert refused.value.code == "format_mail_program"
    assert "program" in refused.value.messages[0]


def test_a_long_text_is_identified_to_its_end():
    body = ("档案" * 3000 + "\n").encode() * 3  # past the head the format is decided from
    assert identify("长文.txt", body).name == "TXT"
    with pytest.raises(ValidationError):
        identify("长文.txt", body + bytes(10))  # a NUL after the head: not text
