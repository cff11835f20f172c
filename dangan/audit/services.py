"""Writing the audit trail. Call inside the transaction of the change being recorded."""

import contextvars
import hashlib
import json
from dataclasses import dataclass, field

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from .models import AuditEvent, AuditHead

#: The client address of the request being served, set by ``AuditContextMiddleware``.
current_ip: contextvars.ContextVar[str | None] = contextvars.ContextVar("current_ip", default=None)


@dataclass
class Event:
    """What happened, before it is chained and stored."""

    action: str
    obj: object = None
    object_type: str = ""
    object_id: str = ""
    object_repr: str = ""
    before: dict | None = None
    after: dict | None = None
    detail: dict | None = field(default=None)


def _canonical(value) -> str:
    return json.dumps(
        value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )


def _digest(previous: str, event: AuditEvent) -> str:
    body = _canonical(
        [
            previous,
            event.at.isoformat(),
            event.actor_id,
            event.actor_name,
            event.action,
            event.object_type,
            event.object_id,
            event.object_repr,
            event.before,
            event.after,
            event.detail,
            event.ip,
        ]
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _to_json(value):
    return None if value is None else json.loads(_canonical(value))


def record_events(*, actor, events: list[Event]) -> list[AuditEvent]:
    """Append ``events`` by ``actor`` (a user or None for the system) to the chained trail."""
    if not events:
        return []
    now = timezone.now()
    ip = current_ip.get()
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        previous = head.digest
        rows = []
        for e in events:
            obj = e.obj
            row = AuditEvent(
                at=now,
                actor=actor if getattr(actor, "pk", None) else None,
                actor_name=getattr(actor, "username", "") or "system",
                action=e.action,
                object_type=e.object_type or (obj._meta.label_lower if obj is not None else ""),
                object_id=e.object_id or (str(obj.pk) if obj is not None else ""),
                object_repr=(e.object_repr or (str(obj) if obj is not None else ""))[:200],
                before=_to_json(e.before),
                after=_to_json(e.after),
                detail=_to_json(e.detail),
                ip=ip,
            )
            row.previous_digest = previous
            row.digest = previous = _digest(previous, row)
            rows.append(row)
        AuditEvent.objects.bulk_create(rows, batch_size=500)
        head.digest = previous
        head.save(update_fields=["digest"])
    return rows


def record_event(*, actor, action: str, obj=None, **kwargs) -> AuditEvent:
    """Append one event; see ``Event`` for the fields."""
    return record_events(actor=actor, events=[Event(action=action, obj=obj, **kwargs)])[0]


def verify_chain() -> list[int]:
    """The ids of entries whose digest no longer matches their content or predecessor."""
    broken, previous = [], ""
    for row in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if row.previous_digest != previous or _digest(previous, row) != row.digest:
            broken.append(row.id)
        previous = row.digest
    return broken
