"""Writing remote requests (异地查档): asking, receiving, answering, delivering.

Every step is one transaction that writes the request, its audit event and, between
installations, the outbox message telling the other end (``outbox`` sends it later). The
holder decides by its own rules (``access.services.rule_for``): secret records never go
out, open ones may be approved at once (``DANGAN_REMOTE_AUTO_APPROVE_OPEN``), the rest wait
for an archivist or a leader of the holding archive.
"""

import base64
import datetime
import hashlib
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from dangan.access import services as access
from dangan.access.models import Certificate, Purpose
from dangan.accounts.models import Role, Unit, User
from dangan.accounts.selectors import county_of, units_within
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event
from dangan.catalogue.models import Record
from dangan.catalogue.selectors import visible_records
from dangan.content.services import keep_bytes
from dangan.integrity import ledger
from dangan.people import id_numbers
from dangan.security import sm2
from dangan.security.permissions import has_permission

from . import keys
from .envelopes import Incoming, Refused
from .models import (
    Counter,
    DeliveredCertificate,
    InboxMessage,
    OutboxMessage,
    Peer,
    RemoteRequest,
)

logger = logging.getLogger(__name__)
State = RemoteRequest.State
#: How far along a request is: a late message never moves it back.
RANK = {State.SENT: 0, State.RECEIVED: 1, State.APPROVED: 2, State.REFUSED: 2, State.DELIVERED: 3}
#: The account that stands for the holder's rules when they approve an open record at once.
RULES_ACCOUNT = "remote-rules"


# --- Peers ---------------------------------------------------------------------------------------
def add_peer(*, actor, code: str, name: str, base_url: str, key_text: str) -> Peer:
    """Register another installation (or renew its name, address and key)."""
    public = keys.parse_public_key(key_text)
    code, name, base_url = code.strip(), name.strip(), base_url.strip().rstrip("/")
    if public is None:
        raise ValidationError(_("The key file holds no SM2 public key."), code="bad_key")
    if not code or not name:
        raise ValidationError(_("A peer needs a code and a name."), code="missing")
    if not base_url.startswith(("http://", "https://")):
        raise ValidationError(_("The address must begin with https:// or http://."), code="url")
    if code == keys.code() or Unit.objects.filter(code=code).exists():
        raise ValidationError(_("That code is this installation's own."), code="own_code")
    with transaction.atomic():
        peer, created = Peer.objects.update_or_create(
            code=code, defaults={"name": name, "base_url": base_url, "public_key": public}
        )
        record_event(
            actor=actor,
            action=AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE,
            obj=peer,
            detail={"code": code, "url": base_url, "key": sm2.fingerprint(public)},
        )
    return peer


def holders_for(user) -> list[tuple[str, str]]:
    """(code, name) of the archives ``user`` may ask: the other counties of this installation,
    then the peer installations."""
    own = county_of(getattr(user, "unit_id", None))
    counties = Unit.objects.filter(kind=Unit.Kind.COUNTY).exclude(pk=own).order_by("code")
    return [(u.code, u.name) for u in counties] + [(p.code, p.name) for p in Peer.objects.all()]


# --- Asking --------------------------------------------------------------------------------------
def _next_number(prefix: str) -> str:
    """``YD2026-A01-000012``: the asking desk's code keeps numbers apart between archives."""
    series = f"YD{timezone.localdate().year}-{prefix}"
    Counter.objects.get_or_create(series=series)
    Counter.objects.filter(series=series).update(last=F("last") + 1)
    return f"{series}-{Counter.objects.get(series=series).last:06d}"


def ask(
    *, actor, holder: str, id_number: str, purpose: str = Purpose.PERSONAL, reason: str = ""
) -> RemoteRequest:
    """Register at the actor's desk a request for the files of the person with ``id_number``
    kept by ``holder`` (a county unit's code here, or a peer's code). A citizen asks for their
    own files: the portal passes the ID number their account is bound to."""
    citizen = getattr(actor, "role", None) == Role.CITIZEN
    if not actor.is_active or not (citizen or access.may_serve(actor)):
        raise PermissionDenied(_("Only archivists and reading-room clerks ask other archives."))
    number = id_numbers.normalize(id_number).number
    if purpose not in Purpose.values:
        raise ValidationError(_("Choose a purpose from the list."), code="purpose")
    county = None if citizen else county_of(actor.unit_id)
    county = Unit.objects.filter(pk=county).first()
    holding = Unit.objects.filter(kind=Unit.Kind.COUNTY, code=holder).first()
    peer = None if holding else Peer.objects.filter(code=holder).first()
    if holding is None and peer is None:
        raise ValidationError(_("No archive with the code %(code)s.") % {"code": holder}, "holder")
    if holding is not None and holding == county:
        raise ValidationError(
            _("This county's own files are at this desk: use the reading room."), code="own"
        )
    now = timezone.now()
    with transaction.atomic():
        req = RemoteRequest.objects.create(
            number=_next_number(county.code if county else keys.code()),
            peer=peer,
            asked_here=True,
            asking_county=county,
            held_here=holding is not None,
            holding_county=holding,
            asking_name=county.name if county else keys.name(),
            holding_name=holding.name if holding else peer.name,
            id_number=number,
            purpose=purpose,
            reason=reason.strip()[:500],
            requester=actor,
            requester_name=actor.get_full_name() or actor.username,
            citizen=citizen,
            state=State.RECEIVED if holding else State.SENT,
            received_at=now if holding else None,
            created_at=now,
        )
        _audit(actor, req, AuditEvent.Action.CREATE, holder=holder, id_number=req.masked_id_number)
        if peer is not None:
            _post(req, "request", _request_body(req))
    if holding is not None:
        answer_by_rules(req)
    return req


def _request_body(req: RemoteRequest) -> dict:
    return {
        "number": req.number,
        "id_number": req.id_number,
        "purpose": req.purpose,
        "reason": req.reason,
        "requester_name": req.requester_name,
        "desk": req.asking_name,
        "asked_at": req.created_at.isoformat(),
    }


def _audit(actor, req, action, **detail) -> None:
    record_event(actor=actor, action=action, obj=req, detail={"number": req.number, **detail})


def _post(req: RemoteRequest, kind: str, body: dict) -> OutboxMessage:
    return OutboxMessage.objects.create(peer=req.peer, request=req, kind=kind, body=body)


def withdraw(*, actor, remote_request: RemoteRequest, reason: str = "") -> RemoteRequest:
    """The asking desk withdraws a request not yet answered (the person no longer needs it):
    refused at both ends with the reason, the holder told by a ``withdrawal`` message."""
    if not actor.is_active or not (actor.role == Role.CITIZEN or access.may_serve(actor)):
        raise PermissionDenied(_("Only the asking desk withdraws a request."))
    with transaction.atomic():
        req = RemoteRequest.objects.select_for_update().get(pk=remote_request.pk, asked_here=True)
        if req.state not in (State.SENT, State.RECEIVED):
            raise ValidationError(_("This request was already answered."), "already_answered")
        _withdrawn(req, actor, reason)
        if req.peer_id:
            _post(req, "withdrawal", {"number": req.number, "reason": req.decision_reason})
    return req


def _withdrawn(req: RemoteRequest, actor, reason: str) -> None:
    req.state, req.decided_at = State.REFUSED, timezone.now()
    withdrawn = _("Withdrawn by the asking desk.")  # outside the f-string: xgettext misses it there
    req.decision_reason = f"{withdrawn} {reason.strip()}".strip()[:500]
    req.save(update_fields=["state", "decided_at", "decision_reason"])
    _audit(actor, req, AuditEvent.Action.UPDATE, state=req.state, withdrawn=True)


# --- Answering (the holder) ----------------------------------------------------------------------
def holdings(req: RemoteRequest, actor=None):
    """The records the holder keeps of the request's person: those ``actor`` may see, or, for
    the rules' own answer, all of the holding county's (all of this installation's)."""
    rows = Record.objects.filter(persons__id_number=req.id_number).exclude(
        state=Record.State.DESTROYED
    )
    if req.holding_county_id:
        rows = rows.filter(unit_id__in=units_within(req.holding_county_id))
    if actor is not None:
        rows = visible_records(actor).filter(pk__in=rows.values("pk"))
    return rows.distinct().order_by("archival_code", "pk")


def _check_holder(actor, req: RemoteRequest) -> None:
    if not has_permission(actor, "access.approve"):
        raise PermissionDenied(_("Only archivists and leaders answer remote requests."))
    own = county_of(actor.unit_id)
    if not req.held_here or (req.holding_county_id and own not in (None, req.holding_county_id)):
        raise RemoteRequest.DoesNotExist


def _locked_open(req: RemoteRequest) -> RemoteRequest:
    req = RemoteRequest.objects.select_for_update().get(pk=req.pk)
    if req.state != State.RECEIVED:
        raise ValidationError(_("This request was already answered."), code="already_answered")
    return req


def rules_account() -> User:
    """The inactive account that issues what the rules approve by themselves (open records)."""
    user = User.objects.filter(username=RULES_ACCOUNT).first()
    if user is None:
        user = User(username=RULES_ACCOUNT, role=Role.ARCHIVIST, is_active=False)
        user.first_name = _("Rules of the archive")
        user.set_unusable_password()
        user.save()
    return user


def answer_by_rules(req: RemoteRequest) -> None:
    """Approve at once when every record held is open (and none secret), if the installation
    lets its rules do so; anything else waits for an archivist. A failure here leaves the
    request waiting, never lost."""
    if not settings.DANGAN_REMOTE_AUTO_APPROVE_OPEN:
        return
    try:
        records = list(holdings(req))
        if records and all(access.rule_for(r) == "deliver" for r in records):
            approve(actor=None, remote_request=req, reason=_("Open records."))
    except Exception:  # noqa: BLE001 - the request waits in the inbox for a person instead
        logger.exception("automatic answer to remote request %s failed", req.number)


def approve(*, actor, remote_request: RemoteRequest, records=None, reason="") -> RemoteRequest:
    """Approve and issue the holder's certificates of ``records`` (ids; default all that the
    actor may see of the person), delivered to the asking desk. Secret records never go."""
    if actor is not None:
        _check_holder(actor, remote_request)
    found = list(holdings(remote_request, actor))
    if records is not None:
        wanted = {int(getattr(r, "pk", r)) for r in records}
        found = [r for r in found if r.pk in wanted]
    # A copy certifies pages: a record held on paper only is not sent.
    deliverable = [r for r in found if access.rule_for(r) != "refuse" and access.has_pages(r)]
    if not deliverable:
        raise ValidationError(
            _("No record to deliver: answer “none held” or refuse."), code="nothing_to_deliver"
        )
    issuer = actor or rules_account()
    with transaction.atomic():
        req = _locked_open(remote_request)
        req.state, req.decided_by, req.decided_at = State.APPROVED, actor, timezone.now()
        req.decision_reason, req.records_found = reason.strip()[:500], len(deliverable)
        req.save()
        _audit(actor, req, AuditEvent.Action.UPDATE, state=req.state, records=len(deliverable))
        watermark = _("Issued by %(holder)s, delivered at %(desk)s · request %(number)s") % {
            "holder": req.holding_name,
            "desk": req.asking_name,
            "number": req.number,
        }
        issued = [
            access.issue_certificate(
                actor=issuer,
                record=record,
                watermark=watermark,
                checked=True,
                issuer_name=req.holding_name,
            )
            for record in deliverable
        ]
        for record in deliverable:
            access.record_use(record=record, purpose=req.purpose, actor=actor)
        if req.peer_id:
            _post(req, "answer", _answer_body(req))
            _post(req, "certificate", _certificate_body(req, issued))
        else:
            _deliver_here(req, [_local_copy(c) for c in issued], actor=issuer)
    return req


def refuse(*, actor, remote_request: RemoteRequest, reason: str = "", none_held=False):
    """Refuse, with the reasons the asking desk will see; ``none_held``: no records of the
    person are kept here."""
    _check_holder(actor, remote_request)
    reason = (reason or "").strip()
    if none_held and not reason:
        reason = _("No records of this person are held here.")
    if not reason:
        raise ValidationError(_("Give the reason for the refusal."), code="reason_missing")
    with transaction.atomic():
        req = _locked_open(remote_request)
        req.state, req.decided_by, req.decided_at = State.REFUSED, actor, timezone.now()
        req.decision_reason, req.records_found = reason[:500], 0 if none_held else None
        req.save()
        _audit(actor, req, AuditEvent.Action.UPDATE, state=req.state, reason=req.decision_reason)
        if req.peer_id:
            _post(req, "answer", _answer_body(req))
    return req


def _answer_body(req: RemoteRequest) -> dict:
    return {
        "number": req.number,
        "state": req.state,
        "reason": req.decision_reason,
        "records": req.records_found,
        "decided_at": req.decided_at.isoformat(),
    }


def _certificate_body(req: RemoteRequest, issued: list[Certificate]) -> dict:
    from dangan.content.selectors import open_blob

    entries = []
    for cert in issued:
        with open_blob(cert.blob) as stream:
            pdf = stream.read()
        entries.append({**_copy_fields(cert), "pdf": base64.b64encode(pdf).decode()})
    return {"number": req.number, "certificates": entries}


def _copy_fields(cert: Certificate) -> dict:
    from django.urls import reverse

    return {
        "number": cert.number,
        "issuer_name": cert.issuer_name,
        "issued_at": cert.issued_at.astimezone(datetime.UTC).isoformat(),
        "summary": cert.summary,
        "sha256": cert.sha256,
        "signature": cert.signature,
        "key_fingerprint": cert.key_fingerprint,
        "verify_url": settings.DANGAN_PUBLIC_URL.rstrip("/")
        + reverse("verify:certificate", args=[cert.code]),
    }


def _local_copy(cert: Certificate) -> DeliveredCertificate:
    fields = _copy_fields(cert)
    fields["issued_at"] = cert.issued_at
    return DeliveredCertificate(certificate=cert, blob=cert.blob, **fields)


def _deliver_here(req: RemoteRequest, copies: list[DeliveredCertificate], *, actor) -> None:
    """The certificates arrived at the asking desk: kept, audited, entered in the ledger."""
    now = timezone.now()
    for copy in copies:
        copy.request, copy.delivered_at = req, now
        copy.save()
    req.state, req.delivered_at = State.DELIVERED, now
    req.save(update_fields=["state", "delivered_at"])
    _audit(actor, req, AuditEvent.Action.CREATE, delivered=[c.number for c in copies])
    source = req.peer.code if req.peer_id else req.holding_county.code
    ledger.append_many(
        actor=actor,
        entries=[
            ledger.Pending(
                kind=ledger.CERTIFICATE_DELIVERED,
                subject=f"remote-certificate:{source}:{copy.number}",
                digest=f"sha256:{copy.sha256}",
                details={"request": req.number, "from": source, "at": req.asking_name},
            )
            for copy in copies
        ],
    )


# --- Messages from peers -------------------------------------------------------------------------
def receive(incoming: Incoming) -> str:
    """Store an accepted message once: ``"stored"``, or ``"duplicate"`` for one already taken
    (the sender missed our acknowledgement). ``Refused`` for one that cannot be applied; then
    nothing is stored."""
    seen = InboxMessage.objects.filter(pk=incoming.id).first()
    if seen is not None:
        if seen.digest != incoming.digest or seen.peer_id != incoming.peer.pk:
            raise Refused(409, "replayed_id", str(incoming.id))
        return "duplicate"
    handler = {
        "request": _on_request,
        "answer": _on_answer,
        "certificate": _on_certificate,
        "withdrawal": _on_withdrawal,
    }
    prepared = _prepare_certificates(incoming) if incoming.kind == "certificate" else None
    try:
        with transaction.atomic():
            InboxMessage.objects.create(
                id=incoming.id,
                peer=incoming.peer,
                kind=incoming.kind,
                digest=incoming.digest,
            )
            req = handler[incoming.kind](incoming, prepared)
    except IntegrityError:  # the same message, taken by a concurrent delivery
        if InboxMessage.objects.filter(pk=incoming.id, digest=incoming.digest).exists():
            return "duplicate"
        raise
    if incoming.kind == "request":
        answer_by_rules(req)
    return "stored"


def _body_text(body: dict, key: str, limit: int) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise Refused(400, "malformed", f"body.{key}")
    return value.strip()


def _on_request(incoming: Incoming, _prepared) -> RemoteRequest:
    body, peer = incoming.body, incoming.peer
    number = _body_text(body, "number", 60)
    try:
        id_number = id_numbers.normalize(_body_text(body, "id_number", 18)).number
    except ValidationError:
        raise Refused(400, "malformed", "body.id_number") from None
    purpose = body.get("purpose") if body.get("purpose") in Purpose.values else Purpose.OTHER
    if RemoteRequest.objects.filter(number=number).exists():
        raise Refused(409, "number_in_use", number)
    req = RemoteRequest.objects.create(
        number=number,
        peer=peer,
        held_here=True,
        asking_name=_body_text(body, "desk", 200),
        holding_name=keys.name(),
        id_number=id_number,
        purpose=purpose,
        reason=str(body.get("reason") or "")[:500],
        requester_name=_body_text(body, "requester_name", 150),
        state=State.RECEIVED,
        created_at=parse_datetime(str(body.get("asked_at"))) or incoming.at,
        received_at=timezone.now(),
    )
    _audit(None, req, AuditEvent.Action.CREATE, peer=peer.code, id_number=req.masked_id_number)
    return req


def _asked_of(incoming: Incoming) -> RemoteRequest:
    number = _body_text(incoming.body, "number", 60)
    req = (
        RemoteRequest.objects.select_for_update()
        .filter(number=number, peer=incoming.peer, asked_here=True)
        .first()
    )
    if req is None:
        raise Refused(400, "unknown_request", number)
    return req


def _on_withdrawal(incoming: Incoming, _prepared) -> RemoteRequest:
    """The asking peer withdrew its request: closed here unless already answered (then the
    answer stands and the desk has it)."""
    number = _body_text(incoming.body, "number", 60)
    req = (
        RemoteRequest.objects.select_for_update()
        .filter(number=number, peer=incoming.peer, held_here=True)
        .first()
    )
    if req is None:
        raise Refused(400, "unknown_request", number)
    if req.state == State.RECEIVED:
        _withdrawn(req, None, "")
    return req


def _on_answer(incoming: Incoming, _prepared) -> RemoteRequest:
    req = _asked_of(incoming)
    state = incoming.body.get("state")
    if state not in (State.APPROVED, State.REFUSED):
        raise Refused(400, "malformed", "body.state")
    if RANK[req.state] < RANK[state]:
        req.state = state
    req.decided_at = parse_datetime(str(incoming.body.get("decided_at"))) or incoming.at
    req.decision_reason = str(incoming.body.get("reason") or "")[:500]
    records = incoming.body.get("records")
    req.records_found = records if isinstance(records, int) and records >= 0 else None
    req.received_at = req.received_at or req.decided_at
    req.save()
    _audit(None, req, AuditEvent.Action.UPDATE, peer=incoming.peer.code, state=state)
    return req


def _prepare_certificates(incoming: Incoming) -> list[tuple[dict, bytes]]:
    """Each certificate of the message with its PDF, checked before anything is stored: the
    PDF's digest is the one signed, and the signature is the holder's (its registered key)."""
    entries = incoming.body.get("certificates")
    if not isinstance(entries, list) or not entries:
        raise Refused(400, "malformed", "body.certificates")
    prepared = []
    for entry in entries:
        try:
            pdf = base64.b64decode(entry["pdf"], validate=True)
            fields = {k: entry[k] for k in _copy_keys()}
            issued_at = datetime.datetime.fromisoformat(fields["issued_at"])
        except (KeyError, TypeError, ValueError):
            raise Refused(400, "malformed", "certificate entry") from None
        if hashlib.sha256(pdf).hexdigest() != fields["sha256"]:
            raise Refused(400, "digest_mismatch", str(fields["number"])[:20])
        signed = Certificate(
            number=fields["number"], sha256=fields["sha256"], issued_at=issued_at
        ).signed_text()
        public = incoming.peer.public_key
        if sm2.fingerprint(public) != fields["key_fingerprint"] or not sm2.verify(
            public, signed, str(fields["signature"])
        ):
            raise Refused(400, "certificate_signature", str(fields["number"])[:20])
        fields["issued_at"] = issued_at
        prepared.append((fields, pdf))
    return prepared


def _copy_keys():
    return (
        "number",
        "issuer_name",
        "issued_at",
        "summary",
        "sha256",
        "signature",
        "key_fingerprint",
        "verify_url",
    )


def _on_certificate(incoming: Incoming, prepared) -> RemoteRequest:
    req = _asked_of(incoming)
    if req.state == State.DELIVERED:
        raise Refused(409, "already_delivered", req.number)
    copies = [
        DeliveredCertificate(blob=keep_bytes(name=f"{f['number']}.pdf", data=pdf), **f)
        for f, pdf in prepared
    ]
    _deliver_here(req, copies, actor=None)
    return req


def acknowledged(message: OutboxMessage) -> None:
    """The peer took ``message``: move our end of the request on (call inside a transaction)."""
    req = RemoteRequest.objects.select_for_update().get(pk=message.request_id)
    if message.kind == "request" and req.state == State.SENT:
        req.state, req.received_at = State.RECEIVED, timezone.now()
        req.save(update_fields=["state", "received_at"])
    elif message.kind == "certificate" and req.state != State.DELIVERED:
        req.state, req.delivered_at = State.DELIVERED, timezone.now()
        req.save(update_fields=["state", "delivered_at"])
        ledger.append_many(
            actor=None,
            entries=[
                ledger.Pending(
                    kind=ledger.CERTIFICATE_DELIVERED,
                    subject=f"certificate:{c['number']}",
                    digest=f"sha256:{c['sha256']}",
                    details={"request": req.number, "to": message.peer.code},
                )
                for c in message.body["certificates"]
            ],
        )
    _audit(None, req, AuditEvent.Action.UPDATE, acknowledged=message.kind, peer=message.peer.code)
