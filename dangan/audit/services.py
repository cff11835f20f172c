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


def _chain_digest(
    previous: str, head: str, before: str, after: str, detail: str, ip, *, ip_text=None
) -> str:
    """The SHA-256 of one entry: the canonical JSON list of its predecessor's digest and its
    fields. ``head`` is the already-encoded run of the plain fields between the two (time, actor,
    action, object); ``before``, ``after`` and ``detail`` are canonical JSON texts, so a batch
    encodes each value once; ``ip_text``: ``ip``'s, when the caller made it already."""
    if ip_text is None:
        ip_text = _ip_text(ip)
    # A digest is hex (or "" before the first entry): its JSON text is itself in quotes.
    quoted = f'"{previous}"' if previous.isascii() and previous.isalnum() else None
    if quoted is None:
        quoted = canonical.dumps(previous)
    body = f"[{quoted},{head},{before},{after},{detail},{ip_text}]"
    return hashlib.sha256(body.encode()).hexdigest()


def _ip_text(ip) -> str:
    return "null" if ip is None else canonical.dumps(ip)


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
    ip_text = _ip_text(ip)
    labels = {}  # each model's label, looked up once a batch
    with transaction.atomic():
        head = _take_head()
        previous = head.digest
        rows = []
        for e in events:
            obj = e.obj
            object_type = e.object_type
            if not object_type and obj is not None:
                model = type(obj)
                object_type = labels.get(model) or labels.setdefault(model, obj._meta.label_lower)
            object_id = e.object_id or (str(obj.pk) if obj is not None else "")
            object_repr = (e.object_repr or (str(obj) if obj is not None else ""))[:200]
            values = (e.before, e.after, e.detail)
            texts = ["null" if v is None else canonical.dumps(v) for v in values]
            fields = _head(at, actor_id, actor_name, e.action, object_type, object_id, object_repr)
            digest = _chain_digest(previous, fields, *texts, ip, ip_text=ip_text)
            stored = [None if v is None else t for v, t in zip(values, texts, strict=True)]
            rows.append(
                (now, actor_id, actor_name, e.action, object_type, object_id, object_repr)
                + (*stored, ip, previous, digest, head.pk)
            )
            previous = digest
        bulk_insert.insert_rows(AuditEvent, _COLUMNS, rows)
        head.digest = previous
        head.save(update_fields=["digest"])


def _take_head() -> AuditHead:
    """The head of a chain no other open transaction is appending to, locked until ours ends.

    The transaction that wrote a service's change holds its head until it commits, perhaps for
    a whole import; a writer meanwhile skips that head (``SKIP LOCKED``) and takes the next
    free one, or opens a new chain when every head is held, so no writer waits for another.
    The lowest free head is taken, so chains are few: as many as writers ever overlapped.
    SQLite lets one writer at a time anyway and ignores the lock: it writes chain 1 alone."""
    head = AuditHead.objects.select_for_update(skip_locked=True).order_by("pk").first()
    if head is None:
        head = AuditHead.objects.create(digest="")
    return head


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
    "chain",
]


def record_event(*, actor, action: str, obj=None, **kwargs) -> None:
    """Append one event; see ``Event`` for the fields."""
    record_events(actor=actor, events=[Event(action=action, obj=obj, **kwargs)])


def verify_chain() -> list[int]:
    """The ids of entries whose digest no longer matches their content or predecessor.

    Every chain is walked in one pass in id order (within a chain, id order is the order of
    appending). After pruning, a chain starts at its newest anchor (the digest of its last entry
    removed); an entry older than the anchor that is still there counts as broken too. A chain
    whose head names a digest that none of its entries carries lost its newest entries: its last
    remaining entry is named (or 0 when none remains). The heads are read first, so entries
    appended while the walk runs are no false alarm.
    """
    heads = dict(AuditHead.objects.values_list("pk", "digest"))
    anchors = {}
    for anchor in AuditAnchor.objects.order_by("id"):
        anchors[anchor.chain] = anchor  # the newest of each chain last
    previous = {chain: anchor.digest for chain, anchor in anchors.items()}
    last_id, reached = (
        {},
        {chain for chain, digest in heads.items() if digest in ("", previous.get(chain))},
    )
    broken = []
    for row in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        chain = row.chain
        anchor = anchors.get(chain)
        if anchor is not None and row.id < anchor.first_kept_id:
            broken.append(row.id)
            continue
        before = previous.get(chain, "")
        if row.previous_digest != before or _digest(before, row) != row.digest:
            broken.append(row.id)
        previous[chain] = row.digest
        last_id[chain] = row.id
        if heads.get(chain) == row.digest:
            reached.add(chain)
    broken += sorted(last_id.get(chain, 0) for chain in set(heads) - reached)
    if broken:
        chain_broken.send(sender=AuditEvent, broken=broken)
    return broken


def chain_heads() -> list[tuple[int, int, str]]:
    """(chain, id, digest) of the newest committed entry of each chain, for the ledger's seal:
    each is a point its chain passed, whatever is being appended meanwhile."""
    heads = []
    for chain in AuditHead.objects.order_by("pk").values_list("pk", flat=True):
        newest = (
            AuditEvent.objects.filter(chain=chain).order_by("-id").values_list("id", "digest")
        ).first()
        if newest is not None:
            heads.append((chain, *newest))
    return heads


def prune(*, actor, older_than_days: int) -> int:
    """Remove entries older than ``older_than_days`` (never under ``MIN_RETENTION_DAYS``) and
    anchor the chain at the last entry removed; the pruning is itself an entry. The number of
    entries removed."""
    import datetime

    from django.core.exceptions import ValidationError
    from django.db.models import Max

    if older_than_days < MIN_RETENTION_DAYS:
        raise ValidationError(
            _("The audit trail is kept %(days)d days at least.") % {"days": MIN_RETENTION_DAYS},
            code="too_young",
        )
    cutoff = timezone.now() - datetime.timedelta(days=older_than_days)
    with transaction.atomic():
        old = AuditEvent.objects.filter(at__lt=cutoff)
        lasts = dict(old.values("chain").annotate(last=Max("id")).values_list("chain", "last"))
        if not lasts:
            return 0
        removed, anchored = 0, []
        for chain, last_id in sorted(lasts.items()):
            last = AuditEvent.objects.get(pk=last_id)
            first_kept = (
                AuditEvent.objects.filter(chain=chain, id__gt=last_id).order_by("id").first()
            )
            count, _by_model = AuditEvent.objects.filter(chain=chain, id__lte=last_id).delete()
            removed += count
            anchored.append(
                AuditAnchor.objects.create(
                    at=timezone.now(),
                    chain=chain,
                    first_kept_id=first_kept.id if first_kept else last_id + 1,
                    digest=last.digest,
                    removed=count,
                )
            )
            last_removed = last
        record_event(
            actor=actor,
            action=AuditEvent.Action.PRUNE,
            obj=anchored[-1],
            detail={
                "older_than_days": older_than_days,
                "removed": removed,
                "anchor": last_removed.digest,
                "last_removed_id": last_removed.id,
                "anchors": {str(a.chain): a.digest for a in anchored},
            },
        )
    return removed
