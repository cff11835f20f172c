"""Reading remote requests: each end sees its own side and nothing of the other's catalogue.

The asking desk sees the requests its county asked (number, person's masked ID, holder, state,
the certificates delivered); the holder's archivists and leaders see the requests addressed to
their county, and the records they may see of the person (``visible_records``).
"""

import datetime

from django.db.models import Count, Q, QuerySet

from dangan.accounts.models import Role
from dangan.accounts.selectors import county_of
from dangan.security.permissions import has_permission

from .models import DeliveredCertificate, OutboxMessage, Peer, RemoteRequest


def is_desk(user) -> bool:
    return has_permission(user, "remote.desk")


def is_holder(user) -> bool:
    return has_permission(user, "remote.answer")


def may_register_peers(user) -> bool:
    """Peer installations are registered by the system administrator."""
    return has_permission(user, "remote.peers")


def desk_requests(user) -> QuerySet[RemoteRequest]:
    """What the user's desk (their county; the whole installation outside counties) asked."""
    if not is_desk(user):
        return RemoteRequest.objects.none()
    county = county_of(user.unit_id)
    return RemoteRequest.objects.filter(
        asked_here=True, citizen=False, asking_county_id=county
    ).select_related("peer")


def inbox(user, *, state: str | None = None) -> QuerySet[RemoteRequest]:
    """The requests addressed to the user's archive (their county, or any outside counties)."""
    if not is_holder(user):
        return RemoteRequest.objects.none()
    county = county_of(user.unit_id)
    rows = RemoteRequest.objects.filter(held_here=True).select_related("peer")
    if county is not None:
        rows = rows.filter(Q(holding_county_id=county) | Q(holding_county__isnull=True))
    return rows.filter(state=state) if state else rows


def citizen_requests(user) -> QuerySet[RemoteRequest]:
    if not (user and user.is_authenticated and user.role == Role.CITIZEN):
        return RemoteRequest.objects.none()
    return RemoteRequest.objects.filter(asked_here=True, requester=user).select_related("peer")


def delivered_copy(user, pk) -> DeliveredCertificate:
    """A delivered certificate the user's desk asked for, or the citizen's own."""
    mine = desk_requests(user) | citizen_requests(user)
    return DeliveredCertificate.objects.select_related("blob", "request").get(
        pk=pk, request__in=mine
    )


def waiting_messages(req: RemoteRequest) -> list[OutboxMessage]:
    """Messages of the request not yet taken by the peer: shown as "waiting" on its page."""
    return list(req.outbox.filter(acknowledged_at__isnull=True).order_by("created_at"))


def peers() -> QuerySet[Peer]:
    return Peer.objects.annotate(
        waiting=Count("outbox", filter=Q(outbox__acknowledged_at__isnull=True))
    )


def status(number: str) -> dict:
    """The state of a request by its number, as ``dangan remote status --json`` prints it."""
    rows = RemoteRequest.objects.select_related("peer", "holding_county", "asking_county")
    req = rows.get(number=number)
    copies = list(req.certificates.all())
    result = {
        "number": req.number,
        "state": req.state,
        "peer": peer_code(req),
        "id_number_masked": req.masked_id_number,
        "asked_here": req.asked_here,
        "held_here": req.held_here,
        "reason": req.decision_reason,
        "waiting_messages": req.outbox.filter(acknowledged_at__isnull=True).count(),
    }
    if copies:
        result["certificate"] = copies[0].number
        result["verify_url"] = copies[0].verify_url
        result["certificates"] = [
            {"number": c.number, "verify_url": c.verify_url, "sha256": c.sha256} for c in copies
        ]
    return result


def peer_code(req: RemoteRequest, *, holder_view: bool | None = None) -> str:
    """The other end's code: the peer installation, or the county asking (seen from the
    holder, ``holder_view``) or holding (seen from the desk) within this installation."""
    if req.peer_id:
        return req.peer.code
    if holder_view is None:
        holder_view = not req.asked_here
    other = req.asking_county if holder_view else req.holding_county
    return other.code if other else ""


def statistics(user, *, since: datetime.datetime, until: datetime.datetime) -> dict:
    """Remote requests sent and received in a period, answered, delivered, and the mean days
    from receipt to answer: of the user's county (the whole installation outside counties)."""
    rows = RemoteRequest.objects.filter(created_at__gte=since, created_at__lt=until)
    county = county_of(getattr(user, "unit_id", None))
    sent = rows.filter(asked_here=True)
    received = rows.filter(held_here=True)
    if county is not None:
        sent, received = (
            sent.filter(asking_county_id=county),
            received.filter(holding_county_id=county),
        )
    answered = received.filter(decided_at__isnull=False)
    spans = [
        (decided - (received or created)).total_seconds()
        for received, created, decided in answered.values_list(
            "received_at", "created_at", "decided_at"
        )
    ]
    return {
        "sent": sent.count(),
        "received": received.count(),
        "answered": len(spans),
        "delivered": sent.filter(state=RemoteRequest.State.DELIVERED).count(),
        "days_to_answer": round(sum(spans) / len(spans) / 86400, 2) if spans else None,
    }
