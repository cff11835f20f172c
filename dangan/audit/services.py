"""Writing the audit trail. Call inside the transaction of the change being recorded."""

import contextvars
import hashlib
from dataclasses import dataclass, field

from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.core import bulk_insert, canonical

from .models import AuditAnchor, AuditEvent, AuditHead

#: The law asks for security events kept six months at least (等保三级); nothing younger is pruned.
MIN_RETENTION_DAYS = 180

#: ``verify_chain`` found entries that no longer match (``broken``: their ids); the alerts app
#: above listens.
chain_broken = Signal()

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


def _chain_digest(previous: str, head: str, before: str, after: str, detail: str, ip) -> str:
    """The SHA-256 of one entry: the canonical JSON list of its predecessor's digest and its
    fields. ``head`` is the already-encoded run of the plain fields between the two (time, actor,
    action, object); ``before``, ``after`` and ``detail`` are canonical JSON texts, so a batch
    encodes each value once."""
    ip = "null" if ip is None else canonical.dumps(ip)
    body = f"[{canonical.dumps(previous)},{head},{before},{after},{detail},{ip}]"
    return hashlib.sha256(body.encode()).hexdigest()


def _head(at: str, actor_id, actor_name, action, object_type, object_id, object_repr) -> str:
    fields = [at, actor_id, actor_name, action, object_type, object_id, object_repr]
    return canonical.dumps(fields)[1:-1]


def _digest(previous: str, event: AuditEvent) -> str:
    """The digest ``event`` (as stored) should carry after ``previous``."""
    head = _head(
        event.at.isoformat(),
        event.actor_id,
        event.actor_name,
        event.action,
        event.object_type,
        event.object_id,
        event.object_repr,
    )
    texts = [canonical.dumps(v) for v in (event.before, event.after, event.detail)]
    return _chain_digest(previous, head, *texts, event.ip)


def record_events(*, actor, events: list[Event]) -> None:
    """Append ``events`` by ``actor`` (a user or None for the system) to the chained trail.

    Rows are written as plain tuples: an import of a hundred thousand rows writes two events a
    row, and building a model instance for each cost more than hashing it."""
    if not events:
        return
    now = timezone.now()
    at = now.isoformat()
    ip = current_ip.get()
    actor_id = actor.pk if getattr(actor, "pk", None) else None
    actor_name = getattr(actor, "username", "") or "system"
    with transaction.atomic():
        head, _ = AuditHead.objects.select_for_update().get_or_create(pk=1)
        previous = head.digest
        rows = []
        for e in events:
            obj = e.obj
            object_type = e.object_type or (obj._meta.label_lower if obj is not None else "")
            object_id = e.object_id or (str(obj.pk) if obj is not None else "")
            object_repr = (e.object_repr or (str(obj) if obj is not None else ""))[:200]
            values = (e.before, e.after, e.detail)
            texts = ["null" if v is None else canonical.dumps(v) for v in values]
            fields = _head(at, actor_id, actor_name, e.action, object_type, object_id, object_repr)
            digest = _chain_digest(previous, fields, *texts, ip)
            stored = [None if v is None else t for v, t in zip(values, texts, strict=True)]
            rows.append(
                (now, actor_id, actor_name, e.action, object_type, object_id, object_repr)
                + (*stored, ip, previous, digest)
            )
            previous = digest
        bulk_insert.insert_rows(AuditEvent, _COLUMNS, rows)
        head.digest = previous
        head.save(update_fields=["digest"])


_COLUMNS = [
    "at",
    "actor",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "before",
    "after",
    "detail",
    "ip",
    "previous_digest",
    "digest",
]


def record_event(*, actor, action: str, obj=None, **kwargs) -> None:
    """Append one event; see ``Event`` for the fields."""
    record_events(actor=actor, events=[Event(action=action, obj=obj, **kwargs)])


def verify_chain() -> list[int]:
    """The ids of entries whose digest no longer matches their content or predecessor.

    After pruning, the chain starts at the newest anchor (the digest of the last entry removed);
    an entry older than the anchor that is still there counts as broken too.
    """
    broken, previous = [], ""
    anchor = AuditAnchor.objects.order_by("-id").first()
    rows = AuditEvent.objects.order_by("id")
    if anchor is not None:
        previous = anchor.digest
        broken += list(rows.filter(id__lt=anchor.first_kept_id).values_list("id", flat=True))
        rows = rows.filter(id__gte=anchor.first_kept_id)
    for row in rows.iterator(chunk_size=2000):
        if row.previous_digest != previous or _digest(previous, row) != row.digest:
            broken.append(row.id)
        previous = row.digest
    if broken:
        chain_broken.send(sender=AuditEvent, broken=broken)
    return broken


def prune(*, actor, older_than_days: int) -> int:
    """Remove entries older than ``older_than_days`` (never under ``MIN_RETENTION_DAYS``) and
    anchor the chain at the last entry removed; the pruning is itself an entry. The number of
    entries removed."""
    import datetime

    from django.core.exceptions import ValidationError

    if older_than_days < MIN_RETENTION_DAYS:
        raise ValidationError(
            _("The audit trail is kept %(days)d days at least.") % {"days": MIN_RETENTION_DAYS},
            code="too_young",
        )
    cutoff = timezone.now() - datetime.timedelta(days=older_than_days)
    with transaction.atomic():
        AuditHead.objects.select_for_update().get_or_create(pk=1)
        last = AuditEvent.objects.filter(at__lt=cutoff).order_by("-id").first()
        if last is None:
            return 0
        first_kept = AuditEvent.objects.filter(id__gt=last.id).order_by("id").first()
        removed, _by_model = AuditEvent.objects.filter(id__lte=last.id).delete()
        anchor = AuditAnchor.objects.create(
            at=timezone.now(),
            first_kept_id=first_kept.id if first_kept else last.id + 1,
            digest=last.digest,
            removed=removed,
        )
        record_event(
            actor=actor,
            action=AuditEvent.Action.PRUNE,
            obj=anchor,
            detail={
                "older_than_days": older_than_days,
                "removed": removed,
                "anchor": last.digest,
                "last_removed_id": last.id,
            },
        )
    return removed
