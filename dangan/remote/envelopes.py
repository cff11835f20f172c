"""The signed envelope a message travels in between installations.

    {"message": {"id", "kind", "from", "to", "at", "body"}, "signature": "<SM2 r‖s hex>"}

The signature, made with the sender's archive SM2 key, covers the SM3 digest of the canonical
JSON of ``message`` (``dangan.core.canonical``: sorted keys, no spaces) — ``signed_text``: a
certificate's PDF travels inside the message, and gmssl's pure-Python SM3 inside SM2 would take
seconds over it, where the digest is hashed by OpenSSL in a millisecond. ``at`` is the time of
this attempt: a message retried after a day is signed again with a fresh time, under the same
id. The receiver refuses what it cannot trust before it stores anything (``check``); each
refusal has a code, logged.
"""

import datetime
import hashlib
import json
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from dangan.content.digests import sm3
from dangan.core import canonical
from dangan.security import sm2

from . import keys
from .models import Peer

AT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
KINDS = {"request", "answer", "certificate", "withdrawal"}


class Refused(Exception):
    """A message not accepted: ``status`` is the HTTP answer, ``code`` the logged reason."""

    def __init__(self, status: int, code: str, detail: str = ""):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.status, self.code, self.detail = status, code, detail


@dataclass
class Incoming:
    id: uuid.UUID
    kind: str
    peer: Peer
    at: datetime.datetime
    body: dict
    digest: str


def digest_of(message: dict) -> str:
    """What makes two deliveries the same message: everything but the time of the attempt."""
    kept = {k: v for k, v in message.items() if k != "at"}
    return hashlib.sha256(canonical.dumps(kept).encode()).hexdigest()


def signed_text(message: dict) -> bytes:
    """What the signature covers: the SM3 digest of the message's canonical JSON."""
    digest = sm3()
    digest.update(canonical.dumps(message).encode())
    return f"dangan-remote-message\n{digest.hexdigest()}\n".encode()


def seal(*, message_id, kind: str, to: str, body: dict, key=None) -> bytes:
    """The bytes to POST: the message, timed now and signed with this archive's key."""
    message = {
        "id": str(message_id),
        "kind": kind,
        "from": keys.code(),
        "to": to,
        "at": timezone.now().astimezone(datetime.UTC).strftime(AT_FORMAT),
        "body": body,
    }
    signature = sm2.sign(key or sm2.archive_key(), signed_text(message))
    return json.dumps({"message": message, "signature": signature}).encode()


def check(raw: bytes) -> Incoming:
    """The message in ``raw`` if it is well formed, from a registered peer, signed by that
    peer's key, addressed here and recent; ``Refused`` otherwise."""
    try:
        data = json.loads(raw)
        message, signature = data["message"], data.get("signature")
        fields = [message[k] for k in ("id", "kind", "from", "to", "at", "body")]
    except (ValueError, TypeError, KeyError):
        raise Refused(400, "malformed", "not a message envelope") from None
    message_id, kind, sender, to, at_text, body = fields
    if not all(isinstance(v, str) for v in fields[:5]) or not isinstance(body, dict):
        raise Refused(400, "malformed", "fields of the wrong type")
    if kind not in KINDS:
        raise Refused(400, "malformed", f"unknown kind {kind[:20]!r}")
    try:
        message_id = uuid.UUID(message_id)
        at = datetime.datetime.strptime(at_text, AT_FORMAT).replace(tzinfo=datetime.UTC)
    except ValueError:
        raise Refused(400, "malformed", "bad id or time") from None
    if not signature or not isinstance(signature, str):
        raise Refused(401, "unsigned")
    peer = Peer.objects.filter(code=sender).first()
    if peer is None:
        raise Refused(403, "unknown_peer", sender[:40])
    if to != keys.code():
        raise Refused(400, "wrong_recipient", to[:40])
    if not sm2.verify(peer.public_key, signed_text(message), signature):
        raise Refused(403, "bad_signature", sender[:40])
    skew = abs((timezone.now() - at).total_seconds())
    if skew > settings.DANGAN_REMOTE_MAX_AGE_SECONDS:
        raise Refused(400, "too_old", f"{at_text} is {int(skew)} s away")
    return Incoming(
        id=message_id, kind=kind, peer=peer, at=at, body=body, digest=digest_of(message)
    )
