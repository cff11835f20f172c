"""Writing the catalogue: creating, filing and changing records, always with the audit trail.

One path for one record and for a hundred thousand: ``create_records`` takes a batch, so the
register import and the demo use exactly the checks and the numbering that a clerk's form uses.
"""

import datetime
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.core import validators
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from dangan.accounts.selectors import may_write_record
from dangan.audit.models import AuditEvent
from dangan.audit.services import Event, record_events
from dangan.core import bulk_insert, canonical
from dangan.core.canonical import sha256_of
from dangan.people import digests as people_digests
from dangan.people.models import RecordPerson
from dangan.people.services import set_links

from . import archival_code
from .models import Category, CodeCounter, Fonds, Record, Retention
from .schema import clean_metadata
from .signals import records_changed, records_written

#: Fields a clerk may set directly on a record (besides fonds, category and metadata).
CORE_FIELDS = [
    "level",
    "year",
    "retention",
    "org_code",
    "title",
    "date",
    "responsible",
    "doc_number",
    "secrecy",
    "secrecy_term",
    "openness",
    "public_attribute",
    "page_count",
    "carrier",
    "legacy_number",
    "box_number",
    "remarks",
    "unit",
]
#: Fields that make up the archival code: fixed once a record is filed.
CODE_FIELDS = {"fonds", "category", "year", "retention", "org_code"}
#: DA/T 18 elements that must be present before a record is filed (档号 is given at filing).
REQUIRED_AT_FILING = ["title", "date", "responsible", "retention", "openness"]


@dataclass
class RecordDraft:
    """A record as submitted, before it is checked, numbered and saved."""

    fonds: Fonds
    category: Category
    values: dict
    metadata: dict = field(default_factory=dict)
    persons: list = field(default_factory=list)  # Person objects, saved
    file: bool = True
    #: ``(archival code, item number)`` a record already carries when it is received from
    #: another archive's transfer package (dangan.appraisal): kept as it is, not numbered anew.
    received_code: tuple | None = None


_SNAPSHOT_FIELDS = [f for f in Record._meta.concrete_fields if f.editable]


#: (name, attname) of each: ``value_from_object`` of a concrete field is its attname's value,
#: read here without a method call per field (an import snapshots every new record).
_SNAPSHOT_NAMES = [(f.name, f.attname) for f in _SNAPSHOT_FIELDS]


def snapshot(record: Record) -> dict:
    """What the audit trail keeps of a record's state: every field a person can set."""
    return {name: getattr(record, attname) for name, attname in _SNAPSHOT_NAMES}


#: Left out of the ledger's digest: ``created_by`` goes blank when a user account is deleted.
_DIGEST_FIELDS = [f for f in _SNAPSHOT_FIELDS if f.name != "created_by"]
#: Between a record's fields digest and its links digest in a ledger entry's digest.
PERSONS_PART = " persons:"


def _next_key(names: list[str], key: str) -> str:
    """The first of ``names`` (sorted) after ``key``: the member that ``key``'s goes before."""
    return min(n for n in names if n > key)


_DIGESTED = [(name, attname) for name, attname in _SNAPSHOT_NAMES if name != "created_by"]
#: ``created_by`` goes before the member of this key in the digested fields' canonical JSON,
#: ``persons`` (an audit event's) before that one's. Both are found by their text, which is
#: sure only where no JSON field's value (a dict, holding any text) comes before the one or
#: after the other: checked here, for a field added one day.
_BEFORE_CREATED_BY = _next_key([n for n, _a in _DIGESTED], "created_by")
_BEFORE_PERSONS = _next_key([n for n, _a in _DIGESTED], "persons")
assert not any(
    isinstance(Record._meta.get_field(n), models.JSONField)
    for n, _a in _DIGESTED
    if n < "created_by" or n > "persons"
), "a JSON field's text could hold a key's text: encode new records' states whole"


def _key_text(key) -> str:
    return str(key) if type(key) is int else canonical.dumps(key)


def _created_texts(record: Record, draft: RecordDraft) -> tuple[canonical.Encoded, str]:
    """A new record's audit state (its ``snapshot`` and, when it has any, its ``persons``) as
    canonical JSON, and its ``fields_digest``: one encoding of its fields serves both."""
    fields = canonical.dumps({name: getattr(record, attname) for name, attname in _DIGESTED})
    # A '"' inside a text is written '\"', so ',"key":' is a member's start; the first one
    # before any nested value, the last one after them.
    at = fields.index(f',"{_BEFORE_CREATED_BY}":')
    created_by = record.created_by_id
    after = (
        f'{fields[:at]},"created_by":{"null" if created_by is None else created_by}{fields[at:]}'
    )
    if draft.persons:
        at = after.rindex(f',"{_BEFORE_PERSONS}":')
        persons = ",".join(str(p.pk) for p in draft.persons)
        after = f'{after[:at]},"persons":[{persons}]{after[at:]}'
    return canonical.Encoded(after), "sha256:" + hashlib.sha256(fields.encode()).hexdigest()


def fields_digest(record: Record, *, snapshot: dict | None = None) -> str:
    """``sha256:`` of the record's own fields (every field a person can set), as canonical JSON.

    Ledger entries written before persons were covered hold only this part."""
    if snapshot is None:
        return sha256_of({f.name: f.value_from_object(record) for f in _DIGEST_FIELDS})
    return sha256_of({f.name: snapshot[f.name] for f in _DIGEST_FIELDS})


def metadata_digest(
    record: Record, *, snapshot: dict | None = None, links=None, fields=None
) -> str:
    """元数据摘要: what the ledger keeps of a record and ``dangan verify`` recomputes — its
    fields digest and, after ``persons:``, the digest of who it is about (each link's order and
    role and that person's ID number, name, sex and date of birth: ``people.digests``). A row
    edited behind the application's back, a person renamed or a record re-linked no longer
    matches. ``snapshot``: the record's ``snapshot()``, when the caller has it already;
    ``links``: its links as ``people.digests.links_of`` gives them (read when not given);
    ``fields``: its ``fields_digest``, when the caller made it already."""
    if links is None:
        links = people_digests.links_of([record.pk])[0].get(record.pk, [])
    if fields is None:
        fields = fields_digest(record, snapshot=snapshot)
    return fields + PERSONS_PART + people_digests.links_digest(links)


def written(
    record: Record, kind: str, *, snapshot=None, links=None, link_ids=None, fields=None
) -> tuple:
    """What ``signals.records_written`` carries of a record as it is now: ``(record, kind,
    metadata digest, persons)``, persons as ``[[person id, role], …]`` in order (the ledger
    keeps them in the entry's details, so that ``dangan verify`` names a moved link)."""
    if link_ids is None:
        link_ids = people_digests.links_of([record.pk])[1].get(record.pk, [])
    digest = metadata_digest(record, snapshot=snapshot, links=links, fields=fields)
    return record, kind, digest, link_ids


def _reindex(record_ids, *, created=None) -> None:
    """The search index follows, in this transaction (``signals.records_changed``);
    ``created``: see the signal."""
    if created is None:
        records_changed.send(sender=Record, record_ids=list(record_ids))
    else:
        records_changed.send(sender=Record, record_ids=list(record_ids), created=created)


def _to_ledger(actor, entries: list[tuple]) -> None:
    """The ledger's entries, in this transaction (``signals.records_written``): each
    ``written(record, "filed" or "changed")``."""
    records_written.send(sender=Record, actor=actor, written=entries)


#: Checked by ``_build`` only when given: what the service sets itself is right by construction.
_ALL_FIELDS = {f.name for f in Record._meta.concrete_fields}
_UNCHECKED = {
    "archival_code",
    "code_prefix",
    "sequence",
    "created_by",
    "volume",
    "fonds",
    "category",
}


def _check_filing(record: Record) -> None:
    missing = [name for name in REQUIRED_AT_FILING if getattr(record, name) in (None, "")]
    if missing:
        raise ValidationError(
            {
                name: ValidationError(
                    _("Required before filing (DA/T 18)."), code="required_at_filing"
                )
                for name in missing
            }
        )


_FIELDS = Record._meta.concrete_fields


def _quick_check(field):
    """A test that ``field.clean`` would accept a value as it is, or None for a field whose
    values always go through ``clean``. Only text fields whose checks are all known here (not
    blank or blank allowed, length, no NUL character, one of the choices): a value that fails the
    test is not refused by it but cleaned by Django, which says what is wrong."""
    if not isinstance(field, models.CharField | models.TextField):
        return None
    known = (validators.MaxLengthValidator, validators.ProhibitNullCharactersValidator)
    if any(not isinstance(v, known) for v in field.validators):
        return None
    limit = field.max_length or float("inf")
    choices = {str(value) for value, _label in field.flatchoices} if field.choices else None

    def passes(value) -> bool:
        return (
            type(value) is str
            and (value != "" or field.blank)
            and len(value) <= limit
            and "\x00" not in value
            and (choices is None or value in choices or (value == "" and field.blank))
        )

    return passes


#: Fields with a quick test: ``_build`` leaves a value that passes it out of ``clean_fields``
#: (a third of the cost of building a record when 100,000 rows are imported).
_QUICK = {f.name: check for f in _FIELDS if (check := _quick_check(f)) is not None}
_BY_NAME = {f.name: f for f in _FIELDS}
#: Fixed defaults, read once; a callable default (a new dict) is called for every record.
_DEFAULTS = {f.attname: f.get_default() for f in _FIELDS if not callable(f.default)}


def _new_record(**values) -> Record:
    """``Record(**values)``, built as Django builds a row it reads (values in column order,
    related objects put in the cache): a third of the cost, for imports of 100,000 rows."""
    row = dict(_DEFAULTS)
    related = []
    for name, value in values.items():
        field = _BY_NAME[name]
        if field.is_relation:
            row[field.attname] = None if value is None else value.pk
            if value is not None:
                related.append((field, value))
        else:
            row[field.attname] = value
    record = Record(*[row[f.attname] if f.attname in row else f.get_default() for f in _FIELDS])
    for field, value in related:
        field.set_cached_value(record, value)
    return record


def _build(draft: RecordDraft, fields_by_category: dict, actor) -> Record:
    unknown = set(draft.values) - set(CORE_FIELDS)
    if unknown:
        raise ValidationError(
            _("Unknown record fields: %(names)s") % {"names": ", ".join(unknown)},
            code="unknown_field",
        )
    if draft.category.pk not in fields_by_category:
        if draft.category.children.exists():
            raise ValidationError(
                {
                    "category": ValidationError(
                        _("Records are filed in a category of the lowest level, not in a group."),
                        code="group_category",
                    )
                }
            )
        fields_by_category[draft.category.pk] = list(draft.category.fields.all())
    fields = fields_by_category[draft.category.pk]
    values = dict(draft.values)
    values.setdefault("retention", draft.category.default_retention)
    values.setdefault("level", draft.category.level)
    if values.get("year") in (None, "") and isinstance(values.get("date"), datetime.date):
        values["year"] = values["date"].year
    record = _new_record(
        fonds=draft.fonds,
        category=draft.category,
        metadata=clean_metadata(fields, draft.metadata),
        created_by=actor if getattr(actor, "pk", None) else None,
        **values,
    )
    # fonds and category are saved objects the caller holds: checking that they exist would
    # cost two queries per record, which a 100,000-row register import cannot afford.
    # Field checks only: uniqueness is the database's (and the numbering's) job, and fonds and
    # category are saved objects the caller holds.
    passed = {name for name, value in values.items() if name in _QUICK and _QUICK[name](value)}
    record.clean_fields(exclude=_UNCHECKED | (_ALL_FIELDS - set(values)) | passed)
    if actor is not None and not may_write_record(actor, record):
        raise PermissionDenied(_("You may not file records in this fonds, category or level."))
    if draft.file:
        _check_filing(record)
    return record


#: Read once: an enum member looked up on its class costs a slow attribute look-up, and the
#: bulk paths below compare a state per record.
_FILED, _DRAFT = Record.State.FILED, Record.State.DRAFT


def _number(records: list[Record]) -> None:
    """Give filed records their archival codes, one counter update per code prefix."""
    by_key = defaultdict(list)
    received: dict = {}
    for record in records:
        if record.state == _FILED and record.archival_code:  # received as it is
            record.code_prefix = archival_code.render(
                record.category.code_template, archival_code.values_for(record), None
            )
            received[record.code_prefix] = max(received.get(record.code_prefix, 0), record.sequence)
        elif record.state == _FILED:
            values = archival_code.values_for(record)
            key = archival_code.render(record.category.code_template, values, None)
            by_key[key].append((record, values))
    if by_key:
        # The counters of every prefix at once: the missing ones created (another clerk's
        # filing may create one at the same moment: ignored, its row counts), each raised by
        # its group's size, then all read back in one query.
        have = set(
            CodeCounter.objects.filter(prefix__in=list(by_key)).values_list("prefix", flat=True)
        )
        missing = [CodeCounter(prefix=key) for key in by_key if key not in have]
        if missing:
            CodeCounter.objects.bulk_create(missing, ignore_conflicts=True)
    for key, group in by_key.items():
        CodeCounter.objects.filter(prefix=key).update(last=F("last") + len(group))
    lasts = dict(CodeCounter.objects.filter(prefix__in=list(by_key)).values_list("prefix", "last"))
    for key, group in by_key.items():
        last = lasts[key]
        for offset, (record, values) in enumerate(group):
            record.sequence = last - len(group) + 1 + offset
            record.code_prefix = key
            record.archival_code = archival_code.render(
                record.category.code_template, values, record.sequence
            )
    for key, last in received.items():  # later filings number after the received records
        CodeCounter.objects.get_or_create(prefix=key)
        CodeCounter.objects.filter(prefix=key, last__lt=last).update(last=last)


def create_records(*, actor, drafts: list[RecordDraft]) -> list[Record]:
    """Check, number and save ``drafts`` in one transaction; all of them or none.

    ``actor`` None means the system itself (the demo, an operator's command).
    Raises ``ValidationError`` for the first bad draft (callers that report per row check
    each draft with ``check_draft`` first) and ``PermissionDenied`` outside the actor's grants.
    """
    fields_by_category: dict = {}
    records = [_build(d, fields_by_category, actor) for d in drafts]
    now = timezone.now()
    with transaction.atomic():
        for record, draft in zip(records, drafts, strict=True):
            record.state = _FILED if draft.file else _DRAFT
            record.filed_at = now if draft.file else None
            if draft.received_code and draft.file:
                record.archival_code, record.sequence = draft.received_code
        _number(records)
        bulk_insert.insert(Record, records)
        subject = RecordPerson.Role.SUBJECT.value
        bulk_insert.insert_rows(
            RecordPerson,
            ["record", "person", "role", "position"],
            [
                (r.pk, p.pk, subject, position)
                for r, d in zip(records, drafts, strict=True)
                for position, p in enumerate(d.persons)
            ],
        )
        _reindex(
            [r.pk for r in records],
            created=[
                (r, [(p.name, p.id_number) for p in d.persons])
                for r, d in zip(records, drafts, strict=True)
            ],
        )
        # Each record's state encoded once, for the audit trail and the ledger's digest.
        texts = [_created_texts(r, d) for r, d in zip(records, drafts, strict=True)]
        create = AuditEvent.Action.CREATE
        record_events(
            actor=actor,
            events=[
                Event(action=create, obj=r, after=after)
                for r, (after, _fields) in zip(records, texts, strict=True)
            ],
        )
        _to_ledger(
            actor,
            [
                written(
                    r,
                    "filed" if r.state == _FILED else "changed",
                    fields=fields,
                    links=[
                        (position, subject, p.id_number, p.name, p.sex, p.birth_date)
                        for position, p in enumerate(d.persons)
                    ],
                    link_ids=[[p.pk, subject] for p in d.persons],
                )
                for r, d, (_after, fields) in zip(records, drafts, texts, strict=True)
            ],
        )
    return records


def check_draft(draft: RecordDraft, *, actor=None, schema_cache: dict | None = None) -> None:
    """Raise the ``ValidationError`` that ``create_records`` would raise for ``draft``.

    ``schema_cache``: one dict shared by the checks of many drafts, so that each category's
    fields are read once (a hand-over package of a thousand items)."""
    _build(draft, {} if schema_cache is None else schema_cache, actor)


def create_record(*, actor, fonds, category, values, metadata=None, persons=(), file=True):
    return create_records(
        actor=actor,
        drafts=[
            RecordDraft(
                fonds=fonds,
                category=category,
                values=values,
                metadata=metadata or {},
                persons=list(persons),
                file=file,
            )
        ],
    )[0]


def update_record(
    *, actor, record: Record, values=None, metadata=None, persons=None, reason=""
) -> Record:
    """Change a record's fields, metadata (the given keys) or persons (in order), audited and
    in the ledger; ``reason`` goes with the change into the audit trail.

    The parts of a filed record's archival code cannot change here: re-filing is its own act.
    Persons are linked through ``people.services.set_links``; the edit is one ledger entry,
    whether it changed the fields, the persons or both.
    """
    values = dict(values or {})
    _refuse_tombstone(record)
    if actor is not None and not may_write_record(actor, record):
        raise PermissionDenied(_("You may not change this record."))
    unknown = set(values) - set(CORE_FIELDS)
    if unknown:
        raise ValidationError(
            _("Unknown record fields: %(names)s") % {"names": ", ".join(unknown)},
            code="unknown_field",
        )
    if record.state == Record.State.FILED:
        moved = [k for k in CODE_FIELDS & set(values) if values[k] != getattr(record, k)]
        if moved:
            raise ValidationError(
                {
                    k: ValidationError(
                        _(
                            "Part of the archival code of a filed record; it cannot be "
                            "changed by editing."
                        ),
                        code="code_field_locked",
                    )
                    for k in moved
                }
            )
    with transaction.atomic():
        record = Record.objects.select_for_update().get(pk=record.pk)
        before = snapshot(record)
        before_digest = fields_digest(record)
        for name, value in values.items():
            setattr(record, name, value)
        if metadata is not None:
            merged = {**record.metadata, **metadata}
            record.metadata = clean_metadata(list(record.category.fields.all()), merged)
        record.full_clean(exclude=["persons", "created_by", "volume"], validate_unique=False)
        if actor is not None and not may_write_record(actor, record):
            raise PermissionDenied(_("You may not move a record outside your rights."))
        if record.state == Record.State.FILED:
            _check_filing(record)
        record.save()
        after = snapshot(record)
        changed = {k: v for k, v in after.items() if before.get(k) != v}
        if changed:
            record_events(
                actor=actor,
                events=[
                    Event(
                        action=AuditEvent.Action.UPDATE,
                        obj=record,
                        before={k: before.get(k) for k in changed},
                        after=changed,
                        detail={"reason": reason} if reason else None,
                    )
                ],
            )
        relinked = persons is not None and set_links(
            actor=actor, record=record, persons=list(persons), reason=reason
        )
        # One ledger entry for one edit: new links write the record's new digest (fields and
        # persons: the fields are saved by then); else the fields' change writes it here.
        if not relinked and fields_digest(record) != before_digest:
            _to_ledger(actor, [written(record, "changed")])
        _reindex([record.pk])
    return record


def _refuse_tombstone(record: Record) -> None:
    """A destroyed record (a tombstone, see dangan.appraisal) is never changed again."""
    if record.state == Record.State.DESTROYED:
        raise ValidationError(
            _("This record was destroyed; its tombstone cannot be changed."),
            code="record_destroyed",
        )


def file_record(*, actor, record: Record) -> Record:
    """File a draft: check the DA/T 18 elements and give it its archival code."""
    with transaction.atomic():
        record = Record.objects.select_for_update().get(pk=record.pk)
        _refuse_tombstone(record)
        if record.state == Record.State.FILED:
            return record
        if actor is not None and not may_write_record(actor, record):
            raise PermissionDenied(_("You may not file this record."))
        _check_filing(record)
        record.state = Record.State.FILED
        record.filed_at = timezone.now()
        _number([record])
        record.save(
            update_fields=[
                "state",
                "archival_code",
                "code_prefix",
                "sequence",
                "filed_at",
                "updated_at",
            ]
        )
        _reindex([record.pk])
        record_events(
            actor=actor,
            events=[
                Event(
                    action=AuditEvent.Action.UPDATE,
                    obj=record,
                    before={"state": "draft"},
                    after={"state": "filed", "archival_code": record.archival_code},
                )
            ],
        )
        _to_ledger(actor, [written(record, "filed")])
    return record


def retention_for(category: Category, record_type: str | None) -> str:
    """The retention the schedule gives a kind of record, else the category's default."""
    if record_type:
        rule = category.retention_rules.filter(record_type=record_type).first()
        if rule:
            return rule.retention
    return category.default_retention or Retention.D100
