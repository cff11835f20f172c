"""Relations between records (关联): a reply points to its request, an attachment to its main
document, a correction to the record it corrects; "see also" for the rest.

A relation is made and removed by someone who may change the record it starts from and may
see the record it points to; both records' audit trails say so, and the ledger keeps it
(``signals.records_related``: a ``record.related`` or ``record.unrelated`` entry, which
``dangan verify`` holds the relations on file to). Each record shows its relations
in both directions, in its own words ("Replies to" here, "Replied to by" there), and only those
to records the reader may see.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from dangan.accounts.selectors import may_write_record
from dangan.audit.models import AuditEvent
from dangan.audit.services import Event, record_events
from dangan.core.canonical import sha256_of

from .models import Record, RecordRelation
from .selectors import visible_records
from .signals import records_related


@dataclass
class Shown:
    """A relation as one record shows it: its words, the other record, and the relation."""

    label: str
    other: Record
    relation: RecordRelation
    outgoing: bool


def _events(relation: RecordRelation, change: str) -> list[Event]:
    detail = {
        "change": change,
        "kind": relation.kind,
        "source": relation.source_id,
        "target": relation.target_id,
        "source_code": relation.source.archival_code,
        "target_code": relation.target.archival_code,
    }
    return [
        Event(action=AuditEvent.Action.UPDATE, obj=record, detail=detail)
        for record in (relation.source, relation.target)
    ]


def _check(actor, source: Record, target: Record) -> None:
    if actor is not None and not may_write_record(actor, source):
        raise PermissionDenied(_("You may not change %(record)s.") % {"record": source})
    if actor is not None and not visible_records(actor).filter(pk=target.pk).exists():
        raise PermissionDenied(_("You may not change %(record)s.") % {"record": target})


def link_records(*, actor, source: Record, target: Record, kind: str) -> RecordRelation:
    """Make ``source`` point to ``target`` as ``kind`` (``RecordRelation.Kind``), audited on
    both records."""
    if kind not in RecordRelation.Kind.values:
        raise ValidationError(_("Choose the kind of relation."), code="relation_kind")
    if source.pk == target.pk:
        raise ValidationError(_("A record cannot be related to itself."), code="relation_self")
    _check(actor, source, target)
    try:
        with transaction.atomic():
            relation = RecordRelation.objects.create(
                source=source,
                target=target,
                kind=kind,
                created_by=actor if getattr(actor, "pk", None) else None,
            )
            record_events(actor=actor, events=_events(relation, "relation_added"))
            records_related.send(
                sender=RecordRelation, actor=actor, relation=relation, change="added"
            )
    except IntegrityError:
        raise ValidationError(
            _("These records are already related so."), code="relation_exists"
        ) from None
    return relation


def unlink_records(*, actor, relation: RecordRelation) -> None:
    """Remove a relation, audited on both records."""
    _check(actor, relation.source, relation.target)
    with transaction.atomic():
        record_events(actor=actor, events=_events(relation, "relation_removed"))
        records_related.send(
            sender=RecordRelation, actor=actor, relation=relation, change="removed"
        )
        relation.delete()


def record_relations(user, record: Record) -> list[Shown]:
    """The relations of ``record`` both ways, to records ``user`` may see."""
    visible = visible_records(user)
    shown = []
    for relation in RecordRelation.objects.filter(source=record, target__in=visible).select_related(
        "target", "source"
    ):
        shown.append(Shown(relation.get_kind_display(), relation.target, relation, True))
    for relation in RecordRelation.objects.filter(target=record, source__in=visible).select_related(
        "source", "target"
    ):
        label = str(RecordRelation.REVERSE[relation.kind])
        shown.append(Shown(label, relation.source, relation, False))
    return shown


def relation_subject(source_id: int, target_id: int, kind: str) -> str:
    """How the ledger names a relation: ``relation:<source id>:<target id>:<kind>``."""
    return f"relation:{source_id}:{target_id}:{kind}"


def relation_digest(source_id: int, target_id: int, kind: str) -> str:
    """The digest the ledger keeps of a relation (``dangan verify`` recomputes it)."""
    return "sha256:" + sha256_of({"source": source_id, "target": target_id, "kind": kind})


def relations_of(record: Record, *, visible=None) -> list[dict]:
    """The relations of ``record`` both ways as data — ``{"kind", "direction" ("out": this
    record points to the other, "in": the other points here), "code", "id"}`` — for the API and
    the transfer package; only those to records in ``visible`` (a queryset) when given."""
    outgoing = RecordRelation.objects.filter(source=record).select_related("target")
    incoming = RecordRelation.objects.filter(target=record).select_related("source")
    if visible is not None:
        outgoing = outgoing.filter(target__in=visible)
        incoming = incoming.filter(source__in=visible)
    found = [
        {"kind": r.kind, "direction": "out", "code": r.target.archival_code, "id": r.target_id}
        for r in outgoing.order_by("pk")
    ]
    found += [
        {"kind": r.kind, "direction": "in", "code": r.source.archival_code, "id": r.source_id}
        for r in incoming.order_by("pk")
    ]
    return found
