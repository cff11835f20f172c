"""Certified copies: the public /verify/ pages, signatures, masking, no enumeration."""

import io
import re

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from dangan.access import certificates, services
from dangan.access.models import Certificate
from dangan.content.selectors import open_blob

pytestmark = pytest.mark.django_db


@pytest.fixture
def cert(records, clerk):
    return services.issue_certificate(actor=clerk, record=records["open"])


def issued_bytes(cert) -> bytes:
    with open_blob(cert.blob) as stream:
        return stream.read()


def upload(client, url, data: bytes):
    return client.post(url, {"file": io.BytesIO(data)}, HTTP_ACCEPT_LANGUAGE="en")


def test_code_is_unguessable_and_numbers_are_unique(records, clerk):
    a = services.issue_certificate(actor=clerk, record=records["open"])
    b = services.issue_certificate(actor=clerk, record=records["open"])
    assert a.number != b.number
    assert len(a.code) == 32 and certificates.looks_like_code(a.code)
    assert a.code != b.code


def test_signature_verifies_and_breaks_when_the_digest_is_changed(cert):
    assert cert.algorithm == "sm2"
    assert certificates.signature_valid(cert)
    cert.sha256 = "0" * 64
    assert not certificates.signature_valid(cert)


def test_a_certificate_signed_before_sm2_still_verifies_with_ed25519(cert):
    import base64

    key = certificates.archive_key()
    cert.algorithm = "ed25519"
    cert.signature = base64.b64encode(key.sign(cert.signed_text())).decode()
    cert.key_fingerprint = certificates.fingerprint(key)
    assert certificates.signature_valid(cert)
    cert.sha256 = "0" * 64
    assert not certificates.signature_valid(cert)


def test_verify_page_shows_issuer_date_and_masked_summary(cert, client):
    page = client.get(f"/verify/{cert.code}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    text = page.content.decode()
    assert cert.number in text
    assert cert.issuer_name in text
    assert "张*" in text
    assert "张伟" not in text
    assert "valid (SM2)" in text
    assert page["Referrer-Policy"] == "no-referrer"


def test_the_genuine_pdf_is_confirmed(cert, client):
    response = upload(client, f"/verify/{cert.code}/", issued_bytes(cert))
    assert b'class="verdict genuine"' in response.content


def test_one_changed_byte_is_not_genuine(cert, client):
    data = bytearray(issued_bytes(cert))
    data[len(data) // 2] ^= 0x01
    response = upload(client, f"/verify/{cert.code}/", bytes(data))
    assert b"not-genuine" in response.content
    assert b'class="verdict genuine"' not in response.content


def test_upload_without_a_code_finds_the_certificate_by_its_bytes(cert, client):
    response = upload(client, "/verify/", issued_bytes(cert))
    assert cert.number.encode() in response.content
    other = upload(client, "/verify/", b"%PDF-1.7 something else")
    assert b"not-genuine" in other.content


def test_unknown_and_malformed_codes_get_the_same_404(cert, client):
    unknown_url, malformed_url = "/verify/" + "A" * 32 + "/", "/verify/abc/"
    unknown, malformed = client.get(unknown_url), client.get(malformed_url)
    assert unknown.status_code == malformed.status_code == 404

    # The pages differ only by the address echoed in the language switch and the CSRF mask.
    def page(response, url):
        return re.sub(rb'value="[A-Za-z0-9]{64}"', b"", response.content.replace(url.encode(), b""))

    assert page(unknown, unknown_url) == page(malformed, malformed_url)


def test_lookups_are_rate_limited(cert, client, settings):
    settings.DANGAN_VERIFY_RATE = (5, 60)
    answers = [client.get(f"/verify/{'B' * 32}/").status_code for _ in range(6)]
    assert answers == [404] * 5 + [429]
    assert client.get(f"/verify/{cert.code}/").status_code == 429
    assert upload(client, "/verify/", b"x").status_code == 429


def test_certificate_is_in_the_ledger(cert):
    from dangan.integrity.models import LedgerEntry

    entry = LedgerEntry.objects.get(subject=f"certificate:{cert.number}")
    assert entry.digest == f"sha256:{cert.sha256}"


def test_secret_records_get_no_certificate(records, clerk):
    with pytest.raises(ValidationError):
        services.issue_certificate(actor=clerk, record=records["secret"])
    assert not Certificate.objects.exists()


def test_mask_name_keeps_the_family_name():
    assert certificates.mask_name("欧阳娜娜") == "欧***"
    assert certificates.mask_text("张伟退休档案 110101198001011234", ["张伟"]).startswith(
        "张*退休档案"
    )


def test_desk_issues_and_downloads_a_certificate(records, clerk, logged_in):
    client = logged_in(clerk)
    response = client.post("/access/certificates/issue/", {"record": records["open"].archival_code})
    assert response.status_code == 302
    cert = Certificate.objects.get()
    pdf = client.get(f"/access/certificates/{cert.pk}/pdf/")
    assert b"".join(pdf.streaming_content) == issued_bytes(cert)


def test_a_revoked_certificate_says_so_wherever_it_is_checked(cert, archivist, client, logged_in):
    from dangan.audit.models import AuditEvent
    from dangan.integrity import ledger
    from dangan.integrity.models import LedgerEntry

    desk = logged_in(archivist)
    reason = {"reason": "签发了错误的档案"}
    answer = desk.post(f"/access/certificates/{cert.pk}/", reason, HTTP_ACCEPT_LANGUAGE="en")
    assert answer.status_code == 302

    page = client.get(f"/verify/{cert.code}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'id="revoked"' in page and "签发了错误的档案" in page
    checked = upload(client, f"/verify/{cert.code}/", issued_bytes(cert)).content.decode()
    assert "Revoked" in checked and "Genuine" not in checked
    found = upload(client, "/verify/", issued_bytes(cert)).content.decode()
    assert "Revoked" in found and "Genuine" not in found
    assert LedgerEntry.objects.filter(
        kind=ledger.CERTIFICATE_REVOKED, subject=f"certificate:{cert.number}"
    ).exists()
    assert AuditEvent.objects.filter(
        object_type="access.certificate", object_id=str(cert.pk), action="update"
    ).exists()
    listed = desk.get("/access/certificates/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert cert.number in listed and "revoked" in listed


def test_only_archivists_and_leaders_revoke_and_always_with_a_reason(cert, clerk, archivist):
    from django.core.exceptions import PermissionDenied, ValidationError

    with pytest.raises(PermissionDenied):
        services.revoke_certificate(actor=clerk, certificate=cert, reason="错了")
    with pytest.raises(ValidationError):
        services.revoke_certificate(actor=archivist, certificate=cert, reason="  ")
    services.revoke_certificate(actor=archivist, certificate=cert, reason="错了")
    with pytest.raises(ValidationError):
        services.revoke_certificate(actor=archivist, certificate=cert, reason="again")
    cert.refresh_from_db()
    assert cert.revoked_by == archivist and cert.revocation_reason == "错了"


def test_a_clerk_sees_the_certificate_but_no_revoke_button(cert, clerk, logged_in):
    page = logged_in(clerk).get(f"/access/certificates/{cert.pk}/").content.decode()
    assert cert.number in page and 'id="revoke-form"' not in page


def test_the_certificate_pdf_embeds_a_chinese_font_and_draws_every_glyph(cert):
    from tests.pdf_glyphs import assert_chinese_glyphs

    assert_chinese_glyphs(issued_bytes(cert))


def test_a_certified_copy_is_pdfa_2b_even_of_a_received_pdf_without_its_fonts(
    make_record, archivist, clerk
):
    """The copy is kept for good: PDF/A-2b. A received PDF page written with a font it does not
    carry (Helvetica) goes in as the image of its page, not as a page that breaks PDF/A."""
    from dangan.content.services import add_files
    from tests.pdf_glyphs import assert_pdfa_2b
    from tests.test_pdf import helvetica_pdf

    record = make_record(actor=archivist, openness="open", title="收到的来函")
    add_files(actor=archivist, record=record, files=[("来函.pdf", io.BytesIO(helvetica_pdf()))])
    pdf = issued_bytes(services.issue_certificate(actor=clerk, record=record))
    assert_pdfa_2b(pdf)
    assert "Helvetica" not in pdf.decode("latin-1")
    import pikepdf

    with pikepdf.open(io.BytesIO(pdf)) as opened:
        assert len(opened.pages) == 2  # the cover, then the letter's page


def test_a_certified_copy_of_a_scanned_page_is_pdfa_2b(cert):
    from tests.pdf_glyphs import assert_pdfa_2b

    assert_pdfa_2b(issued_bytes(cert))


def cover_text(cert) -> str:
    import subprocess

    return subprocess.run(
        ["pdftotext", "-", "-"], input=issued_bytes(cert), capture_output=True, check=True
    ).stdout.decode()


def test_a_copy_of_a_record_with_no_pages_is_refused_with_the_reason(make_record, archivist, clerk):
    paper = make_record(actor=archivist, openness="open")
    with translation.override("zh-hans"), pytest.raises(ValidationError) as refused:
        services.issue_certificate(actor=clerk, record=paper)
    assert refused.value.code == "no_pages"
    assert "没有可复制的页面" in refused.value.messages[0]
    assert not Certificate.objects.exists()


def test_the_desk_is_told_why_a_record_without_pages_gets_no_copy(
    make_record, archivist, clerk, logged_in
):
    paper = make_record(actor=archivist, openness="open")
    client = logged_in(clerk)
    response = client.post(
        "/access/certificates/issue/", {"record": paper.archival_code}, follow=True
    )
    assert response.status_code == 200
    assert "没有可复制的页面" in response.content.decode()
    assert not Certificate.objects.exists()


def test_a_certificate_of_a_paper_only_record_certifies_its_entry_and_says_so(
    make_record, archivist, clerk, client
):
    paper = make_record(actor=archivist, openness="open")
    with translation.override("zh-hans"):
        cert = services.issue_certificate(actor=clerk, record=paper, entry_only=True)
    text = cover_text(cert)
    assert text.count("\f") == 1  # the cover alone
    text = "".join(text.split())  # lines wrap inside words
    assert "仅存纸质" in text and "不证明任何页面" in text
    assert "复制页数" not in text and "以下各页" not in text
    page = client.get(f"/verify/{cert.code}/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "仅存纸质" in page.content.decode()


def test_a_record_with_pages_gets_a_copy_not_an_entry_certificate(records, clerk):
    with pytest.raises(ValidationError) as refused:
        services.issue_certificate(actor=clerk, record=records["open"], entry_only=True)
    assert refused.value.code == "has_pages"


def test_a_copy_states_the_pages_it_holds(records, clerk):
    with translation.override("zh-hans"):
        cert = services.issue_certificate(actor=clerk, record=records["open"])
    text = cover_text(cert)
    assert text.count("\f") == 2  # the cover and the one scanned page
    assert "复制页数1" in "".join(text.split())
