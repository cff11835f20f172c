"""Messages between installations, received at /remote/messages/: a signed message from a
registered peer is stored once and acknowledged; anything it cannot trust is refused with 4xx
and a logged reason, and nothing is stored."""

import base64
import datetime
import hashlib
import json
import uuid

import pytest
from django.utils import timezone

from dangan.access.models import Certificate
from dangan.remote import envelopes, keys, outbox, services
from dangan.remote.models import InboxMessage, OutboxMessage, Peer, RemoteRequest
from dangan.security import sm2
from tests.access.conftest import PERSON

pytestmark = pytest.mark.django_db
URL = "/remote/messages/"


@pytest.fixture
def other():
    """A peer installation whose private key the test holds."""
    key = sm2.generate()
    services.add_peer(
        actor=None, code="P2", name="邻县档案馆", base_url="http://127.0.0.1:9", key_text=key.public
    )
    return key


def _envelope(key, kind, body, *, message_id=None, sender="P2", at=None, signature=True):
    message = {
        "id": str(message_id or uuid.uuid4()),
        "kind": kind,
        "from": sender,
        "to": keys.code(),
        "at": (at or timezone.now()).astimezone(datetime.UTC).strftime(envelopes.AT_FORMAT),
        "body": body,
    }
    sealed = {"message": message}
    if signature:
        sealed["signature"] = sm2.sign(key, envelopes.signed_text(message))
    return json.dumps(sealed)


def _request_body(number="YD2026-P2-000001"):
    return {
        "number": number,
        "id_number": PERSON["id_number"],
        "purpose": "personal",
        "reason": "退休审批",
        "requester_name": "王接待",
        "desk": "邻县档案馆",
        "asked_at": timezone.now().isoformat(),
    }


def _post(client, data):
    return client.post(URL, data, content_type="application/json")


def test_a_signed_request_is_stored_once_and_acknowledged(client, other):
    message_id, body = uuid.uuid4(), _request_body()
    answer = _post(client, _envelope(other, "request", body, message_id=message_id))
    assert answer.status_code == 200 and answer.json() == {
        "ack": str(message_id),
        "status": "stored",
    }
    req = RemoteRequest.objects.get()
    assert req.held_here and req.state == "received" and req.peer.code == "P2"
    # The sender missed our acknowledgement and sends it again (signed afresh): nothing new.
    again = _post(client, _envelope(other, "request", body, message_id=message_id))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"
    assert RemoteRequest.objects.count() == 1 and InboxMessage.objects.count() == 1


@pytest.mark.parametrize(
    "forge, status, reason",
    [
        (lambda key: "not json", 400, "malformed"),
        (lambda key: _envelope(key, "request", _request_body(), signature=False), 401, "unsigned"),
        (lambda key: _envelope(sm2.generate(), "request", _request_body()), 403, "bad_signature"),
        (
            lambda key: _envelope(key, "request", _request_body(), sender="NOBODY"),
            403,
            "unknown_peer",
        ),
        (
            lambda key: _envelope(
                key, "request", _request_body(), at=timezone.now() - datetime.timedelta(hours=2)
            ),
            400,
            "too_old",
        ),
    ],
)
def test_untrusted_messages_are_refused_and_nothing_is_stored(
    client, other, caplog, forge, status, reason
):
    answer = _post(client, forge(other))
    assert answer.status_code == status and answer.json()["error"] == reason
    assert reason in caplog.text  # the reason is in the log
    assert not RemoteRequest.objects.exists() and not InboxMessage.objects.exists()


def test_a_message_id_used_again_for_other_content_is_refused(client, other):
    message_id = uuid.uuid4()
    assert _post(client, _envelope(other, "request", _request_body(), message_id=message_id))
    replay = _envelope(other, "request", _request_body("YD2026-P2-000002"), message_id=message_id)
    answer = _post(client, replay)
    assert answer.status_code == 409 and answer.json()["error"] == "replayed_id"
    assert RemoteRequest.objects.count() == 1


def _asked_of_peer(desk_clerk):
    return services.ask(actor=desk_clerk, holder="P2", id_number=PERSON["id_number"])


def _certificate_entry(key, pdf: bytes, *, sha256=None):
    issued_at = timezone.now().replace(microsecond=0)
    sha256 = sha256 or hashlib.sha256(pdf).hexdigest()
    signed = Certificate(number="ZM2026-000007", sha256=sha256, issued_at=issued_at).signed_text()
    return {
        "number": "ZM2026-000007",
        "issuer_name": "邻县档案馆",
        "issued_at": issued_at.astimezone(datetime.UTC).isoformat(),
        "summary": {"archival_code": "A001-X", "title": "[测试]"},
        "sha256": sha256,
        "signature": sm2.sign(key, signed),
        "key_fingerprint": sm2.fingerprint(key.public),
        "verify_url": "http://127.0.0.1:9/verify/" + "x" * 32 + "/",
        "pdf": base64.b64encode(pdf).decode(),
    }


def test_a_certificate_whose_pdf_is_not_the_signed_one_is_refused(client, other, make_user):
    from dangan.accounts.models import Role

    req = _asked_of_peer(make_user(role=Role.READING_CLERK))
    entry = _certificate_entry(other, b"%PDF-1.7 the issued copy")
    entry["pdf"] = base64.b64encode(b"%PDF-1.7 another copy").decode()
    body = {"number": req.number, "certificates": [entry]}
    answer = _post(client, _envelope(other, "certificate", body))
    assert answer.status_code == 400 and answer.json()["error"] == "digest_mismatch"
    assert not req.certificates.exists() and not InboxMessage.objects.exists()
    # The genuine one is taken: the request is delivered at the desk.
    body["certificates"] = [_certificate_entry(other, b"%PDF-1.7 the issued copy")]
    assert _post(client, _envelope(other, "certificate", body)).status_code == 200
    req.refresh_from_db()
    assert req.state == "delivered" and req.certificates.get().number == "ZM2026-000007"


def test_a_peer_that_is_down_keeps_the_message_waiting_with_a_growing_wait(
    other, make_user, settings
):
    from dangan.accounts.models import Role

    settings.DANGAN_REMOTE_RETRY_SECONDS = 10
    req = _asked_of_peer(make_user(role=Role.READING_CLERK))
    assert req.state == "sent"
    first = outbox.send_due()
    assert first == {"sent": 0, "failed": 1, "waiting": 1}
    message = OutboxMessage.objects.get()
    assert message.attempts == 1 and message.last_error
    assert message.next_attempt_at > timezone.now() + datetime.timedelta(seconds=5)
    assert outbox.send_due()["failed"] == 0  # not due yet: not tried again at once
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    outbox.send_due()
    message.refresh_from_db()
    wait = (message.next_attempt_at - timezone.now()).total_seconds()
    assert message.attempts == 2 and 15 < wait <= 20  # doubled
    assert RemoteRequest.objects.get().state == "sent"


def test_peers_key_and_add_round_trip_through_pem(tmp_path, capsys):
    from django.core.management import call_command

    call_command("peers", "key", "--json")
    own = json.loads(capsys.readouterr().out)
    assert own["code"] == keys.code() and own["public_key"].startswith("-----BEGIN PUBLIC KEY")
    (tmp_path / "key.pem").write_text(own["public_key"])
    call_command("peers", "add", "P9", "九号馆", "https://p9.example", str(tmp_path / "key.pem"))
    call_command("peers", "list", "--json")
    (row,) = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert row["code"] == "P9" and Peer.objects.get(code="P9").public_key == keys.public_key()
    (tmp_path / "bad.pem").write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
    with pytest.raises(Exception, match="no SM2 public key"):
        call_command(
            "peers", "add", "P8", "八号馆", "https://p8.example", str(tmp_path / "bad.pem")
        )


def test_a_withdrawal_closes_the_request_at_the_holder(client, other):
    assert _post(client, _envelope(other, "request", _request_body())).status_code == 200
    body = {"number": "YD2026-P2-000001", "reason": ""}
    assert _post(client, _envelope(other, "withdrawal", body)).status_code == 200
    req = RemoteRequest.objects.get()
    # The holder's own words, in the language of the request that brought the message.
    assert req.state == "refused" and req.decision_reason == "申请窗口已撤回。"
