"""Sending the outbox: each message to its peer, signed afresh at every attempt, until the
peer acknowledges it. A peer that does not answer is tried again later, the wait doubling from
``DANGAN_REMOTE_RETRY_SECONDS`` up to ``DANGAN_REMOTE_RETRY_MAX_SECONDS``; its later messages
wait behind the one that failed, so a request always arrives before its answer.

The worker (``dangan worker``, started by ``dangan run``) calls ``send_due`` every few seconds;
``dangan remote send`` calls it at once.
"""

import datetime
import logging
import urllib.error
import urllib.request

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import envelopes, services
from .models import OutboxMessage

logger = logging.getLogger(__name__)
PATH = "/remote/messages/"


def send_due(*, limit: int = 200) -> dict:
    """Send what is due; ``{"sent": n, "failed": n, "waiting": n}``."""
    counts = {"sent": 0, "failed": 0, "waiting": 0}
    blocked: set[int] = set()  # peers that failed this round: their later messages wait
    due = (
        OutboxMessage.objects.filter(acknowledged_at__isnull=True)
        .select_related("peer")
        .order_by("created_at")[:limit]
    )
    now = timezone.now()
    for message in due:
        if message.peer_id in blocked or message.next_attempt_at > now:
            blocked.add(message.peer_id)
            continue
        if send_one(message):
            counts["sent"] += 1
        else:
            counts["failed"] += 1
            blocked.add(message.peer_id)
    counts["waiting"] = OutboxMessage.objects.filter(acknowledged_at__isnull=True).count()
    return counts


def send_one(message: OutboxMessage) -> bool:
    """One attempt; True once the peer acknowledged the message."""
    data = envelopes.seal(
        message_id=message.id, kind=message.kind, to=message.peer.code, body=message.body
    )
    request = urllib.request.Request(
        message.peer.base_url.rstrip("/") + PATH,
        data=data,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=settings.DANGAN_REMOTE_TIMEOUT) as answer:
            answer.read()
    except urllib.error.HTTPError as exc:
        detail = exc.read(300).decode(errors="replace")
        return _failed(message, f"HTTP {exc.code}: {detail}")
    except OSError as exc:  # refused, unreachable, timed out
        return _failed(message, str(exc))
    with transaction.atomic():
        locked = OutboxMessage.objects.select_for_update().get(pk=message.pk)
        if locked.acknowledged_at is None:
            locked.acknowledged_at = timezone.now()
            locked.attempts += 1
            locked.last_error = ""
            services.acknowledged(locked)
            # The PDFs are the certificates' own, kept in the content store: not twice.
            for entry in locked.body.get("certificates", []):
                entry.pop("pdf", None)
            locked.save(update_fields=["acknowledged_at", "attempts", "last_error", "body"])
    return True


def _failed(message: OutboxMessage, error: str) -> bool:
    attempts = message.attempts + 1
    wait = min(
        settings.DANGAN_REMOTE_RETRY_SECONDS * 2 ** (attempts - 1),
        settings.DANGAN_REMOTE_RETRY_MAX_SECONDS,
    )
    OutboxMessage.objects.filter(pk=message.pk).update(
        attempts=attempts,
        last_error=error[:500],
        next_attempt_at=timezone.now() + datetime.timedelta(seconds=wait),
    )
    logger.warning(
        "message %s (%s) to %s not delivered (attempt %d, next in %d s): %s",
        message.pk,
        message.kind,
        message.peer.code,
        attempts,
        wait,
        error[:200],
    )
    return False
