"""Every door that takes a file from outside, fed hostile and broken files (hypothesis): scans
added to a record, an old register for import, a certificate at /verify/, an offline package.
Each answers with a page or a message (never a 5xx), and a refused file leaves nothing behind
(no page, no import job, no list)."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dangan.content.models import Page
from dangan.intake.models import HandoverList, ImportJob

pytestmark = pytest.mark.django_db


def _zip(members: dict) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


#: Files a clumsy user or an attacker sends: empty, cut short, lying about their kind, active.
HOSTILE_FILES = [
    b"",
    b"\x00" * 1000,
    b"%PDF-1.7\n1 0 obj<</Type/Catalog/OpenAction<</S/JavaScript/JS(app.alert(1))>>>>endobj\n",
    b"%PDF-1.4\n%%EOF",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\xff\xff\x00\x00\xff\xff\x08\x02",
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
    b"\x7fELF\x02\x01\x01" + b"\x00" * 100,
    b"MZ\x90\x00" + b"\x00" * 100,
    b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
    b"<html><script>alert(1)</script></html>",
    b"PK\x03\x04" + b"\x00" * 60,
    _zip({"[Content_Types].xml": "<Types/>", "xl/workbook.xml": "<<<not xml"}),
    _zip({"xl/worksheets/sheet1.xml": "0" * 5_000_000}),  # a small zip that unpacks large
    '姓名,身份证号\n=HYPERLINK("http://x"),110101198001011234\n'.encode("gbk"),
    "姓名,身份证号\n\x00,\xff\n".encode("utf-8", "surrogateescape"),
    b"\xef\xbb\xbf" + b"a,b\n" * 10,
]
NAMES = [
    "scan.jpg",
    "../../etc/passwd",
    "档案 (1).pdf",
    ".htaccess",
    "x" * 300 + ".pdf",
    "register.xlsx",
    "register.csv",
    "a;b\r\nX-Header: 1.jpg",
    "",
]

files = st.tuples(
    st.one_of(st.sampled_from(HOSTILE_FILES), st.binary(max_size=2048)),
    st.one_of(st.sampled_from(NAMES), st.text(max_size=40)),
)
fuzz = settings(
    max_examples=25,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _upload(data: bytes, name: str):
    return SimpleUploadedFile(name.replace("\x00", "") or "file", data)


@pytest.fixture
def clerk_client(client, archivist):
    client.force_login(archivist)
    return client


@pytest.fixture(autouse=True)
def _content_dir(settings, tmp_path):
    settings.CONTENT_STORE = "local"
    settings.CONTENT_DIR = tmp_path / "content"
    settings.DATA_DIR = tmp_path


def test_scans_added_to_a_record(clerk_client, make_record):
    record = make_record()

    @fuzz
    @given(files)
    def door(file):
        data, name = file
        before = Page.objects.filter(record=record).count()
        answer = clerk_client.post(
            f"/content/records/{record.pk}/upload/",
            {"files": [_upload(data, name)]},
            HTTP_ACCEPT="application/json",
        )
        assert answer.status_code < 500
        added = Page.objects.filter(record=record).count() - before
        assert added == (1 if answer.status_code == 201 else 0)

    door()


def test_a_register_for_import(clerk_client, category, fonds):
    @fuzz
    @given(files)
    def door(file):
        data, name = file
        jobs = ImportJob.objects.count()
        answer = clerk_client.post(
            "/intake/import/",
            {"file": _upload(data, name), "category": category.pk, "fonds": fonds.pk},
        )
        assert answer.status_code < 500
        if answer.status_code == 302:  # taken: its mapping page opens, or says why not
            assert ImportJob.objects.count() == jobs + 1
            assert clerk_client.get(answer["Location"]).status_code < 500
        else:
            assert ImportJob.objects.count() == jobs

    door()


def test_a_certificate_at_verify(client):
    @fuzz
    @given(files)
    def door(file):
        data, name = file
        answer = client.post("/verify/", {"file": _upload(data, name)})
        assert answer.status_code in (200, 429)

    door()


def test_an_offline_package(clerk_client):
    @fuzz
    @given(files)
    def door(file):
        data, name = file
        answer = clerk_client.post("/intake/handover/package/", {"package": _upload(data, name)})
        assert answer.status_code == 200
        assert not HandoverList.objects.exists()

    door()
