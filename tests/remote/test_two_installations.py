"""Two live installations (two data directories, two servers with their workers on two ports):
a desk at A asks for a person held at B, B's archivist answers, and the certificate delivered
at A is genuine at B's /verify/ — also when B's server is down for a while in between. A forged
message is refused."""

import json
import re
import urllib.error
import urllib.request
import uuid

import pytest

from dangan.security import sm2
from tests.api.conftest import id_number

from .live import Installation, pair, wait_for

FIRST, SECOND = id_number("32098119600101123"), id_number("32098119620202123")


@pytest.fixture
def installations(tmp_path):
    a = Installation("A320981", "东台市档案馆", tmp_path / "a")
    b = Installation("B320924", "射阳县档案馆", tmp_path / "b")
    for site in (a, b):
        site.data_dir.mkdir()
    try:
        a.start(), b.start()
        pair(a, b)
        b.seed([FIRST, SECOND])
        yield a, b
    finally:
        a.stop(), b.stop()


def _state(site, number):
    return site.json("remote", "status", number)


def _pdf_at(site, number) -> bytes:
    out = site.data_dir / "printed.pdf"
    site.shell(
        "from dangan.remote.models import DeliveredCertificate\n"
        "from dangan.content.selectors import open_blob\n"
        f"c = DeliveredCertificate.objects.get(request__number={number!r})\n"
        f"open({str(out)!r}, 'wb').write(open_blob(c.blob).read())\n"
    )
    return out.read_bytes()


def _upload(url: str, data: bytes) -> str:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="c.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        url,
        data=body,
        headers={
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Accept-Language": "en",
        },
    )
    return urllib.request.urlopen(request, timeout=30).read().decode()


def _ask_answer_deliver(a, b, number_of_person, *, b_down_for=0.0):
    asked = a.json(
        "remote", "ask", "--peer", b.code, "--id-number", number_of_person,
        "--purpose", "退休审批", "--user", "admin",
    )  # fmt: skip
    number = asked["number"]
    assert asked["state"] == "sent"
    wait_for(lambda: _state(a, number)["state"] == "received")
    (row,) = [r for r in b.json("remote", "inbox") if r["number"] == number]
    assert row["peer"] == a.code and row["state"] == "received"
    assert (
        row["id_number_masked"].endswith(number_of_person[-4:]) and "*" in row["id_number_masked"]
    )
    answered = b.json("remote", "answer", number, "--approve", "--user", "admin")
    assert answered["state"] == "approved"
    status = wait_for(lambda: (s := _state(a, number))["state"] == "delivered" and s)
    assert wait_for(lambda: _state(b, number)["state"] == "delivered")  # A acknowledged it
    return number, status


def test_a_certificate_asked_at_a_and_issued_at_b_is_genuine_at_bs_verify(installations):
    a, b = installations
    number, status = _ask_answer_deliver(a, b, FIRST)
    assert status["certificate"].startswith("ZM")
    assert status["verify_url"].startswith(b.url + "/verify/")
    page = (
        urllib.request.urlopen(
            urllib.request.Request(status["verify_url"], headers={"Accept-Language": "en"})
        )
        .read()
        .decode()
    )
    assert status["certificate"] in page and "valid (SM2)" in page and "射阳县档案馆" in page
    pdf = _pdf_at(a, number)
    assert 'class="verdict genuine"' in _upload(status["verify_url"], pdf)
    assert 'class="verdict genuine"' not in _upload(status["verify_url"], pdf[:-40] + b"0" * 40)
    # Each end has one request, one answer, one certificate; both ledgers hold the delivery.
    for site in (a, b):
        counts = site.shell(
            "from dangan.remote.models import RemoteRequest, DeliveredCertificate\n"
            "from dangan.integrity.models import LedgerEntry\n"
            "print(RemoteRequest.objects.count(), DeliveredCertificate.objects.count(),"
            " LedgerEntry.objects.filter(kind='certificate.delivered').count())"
        ).split()
        assert counts == (["1", "1", "1"] if site is a else ["1", "0", "1"])

    # B's server is down for a while: the request waits in A's outbox, and goes once B is up.
    b.stop()
    asked = a.json(
        "remote", "ask", "--peer", b.code, "--id-number", SECOND, "--purpose", "personal",
        "--user", "admin",
    )  # fmt: skip
    waiting = wait_for(
        lambda: (s := _state(a, asked["number"]))["waiting_messages"] and s, timeout=30
    )
    assert waiting["state"] == "sent"
    wait_for(lambda: "attempt" in a.shell(
        "from dangan.remote.models import OutboxMessage\n"
        "m = OutboxMessage.objects.filter(acknowledged_at=None).get()\n"
        "print('attempt' if m.attempts >= 2 and m.last_error else '')"
    ), timeout=30)  # fmt: skip
    b.start()
    wait_for(lambda: _state(a, asked["number"])["state"] == "received")
    b.dangan("remote", "answer", asked["number"], "--approve", "--user", "admin")
    second = wait_for(lambda: (s := _state(a, asked["number"]))["state"] == "delivered" and s)
    assert 'class="verdict genuine"' in _upload(second["verify_url"], _pdf_at(a, asked["number"]))

    # A forged message, in A's name but signed with another key, is refused; nothing stored.
    before = len(b.json("remote", "inbox"))
    forged = {
        "id": str(uuid.uuid4()),
        "kind": "request",
        "from": a.code,
        "to": b.code,
        "at": re.sub(r"\.\d+", "", __import__("datetime").datetime.utcnow().isoformat()) + "Z",
        "body": {"number": "YD2026-A320981-999999", "id_number": FIRST, "desk": "x",
                 "requester_name": "x", "purpose": "personal"},
    }  # fmt: skip
    from dangan.remote import envelopes

    envelope = {
        "message": forged,
        "signature": sm2.sign(sm2.generate(), envelopes.signed_text(forged)),
    }
    request = urllib.request.Request(
        b.url + "/remote/messages/",
        data=json.dumps(envelope).encode(),
        headers={"Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 403
    assert json.loads(refused.value.read())["error"] == "bad_signature"
    assert len(b.json("remote", "inbox")) == before
