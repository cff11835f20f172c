"""校验 (``dangan verify``): recompute everything the ledger vouches for and name what differs.

Six looks, each reporting findings as ``{"check", "kind", "subject", "objects", "message"}``:

* **chain** — every ledger entry's hash from its columns and its predecessor, numbers without
  gaps, the head row; read as plain rows by number range, in worker processes over day ranges
  when the ledger is large (``chain_pass``);
* **day roots** — each sealed day's Merkle root, count and last hash against the recomputed
  ones, its signature, and the copy in the witness folder (which names the rewritten entries);
* **persons** — each person's ID number, name, sex and date of birth against their latest
  ledger entry, naming the records that concern them;
* **records** — each record's canonical metadata digest (its fields, and who it is about: each
  link's order and role and that person) against its latest ledger entry, naming a changed
  field, a moved link or a changed person; a destroyed record must be a tombstone with a
  ``record.destroyed`` entry;
* **blobs** — each blob's row against its ``content.added`` (or later ``content.sm3``) entry and
  its bytes against their SHA-256 (always) and SM3 (where computed: a rolling sample, or all
  with ``sm3="all"``), streamed in 1 MiB reads on several threads; content removed by
  destruction must be gone from the store;
* **audit** — the audit trail's own chain (``audit.services.verify_chain``) and the audit heads
  the ledger holds.
"""

import datetime
import hashlib
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import connection, connections
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from dangan.alerts import services as security_alerts
from dangan.audit.models import AuditEvent
from dangan.audit.services import record_event

from . import ledger
from .models import DayRoot, LedgerEntry, LedgerHead, VerifyRun

#: Rows read per query when walking the chain.
CHAIN_BATCH = 50_000
#: Below this many entries the chain is walked in this process; above, in worker processes.
PARALLEL_FROM = 200_000
#: Bytes read at a time from a blob.
READ_BYTES = 1024 * 1024
#: SM3 of a blob is recomputed when (blob id + day number) is divisible by this: each blob once
#: in so many daily runs. SHA-256 is checked on every run.
SM3_EVERY = 30
#: Findings kept with a stored run (the command prints them all).
KEEP_PROBLEMS = 2000


#: The kind of each finding (``dangan verify --json``), by the look that made it.
KIND_OF_CHECK = {
    "chain": "ledger",
    "day_root": "ledger",
    "witness": "ledger",
    "record": "record",
    "person": "person",
    "link": "link",
    "blob": "blob",
    "audit": "audit",
}


@dataclass
class Report:
    problems: list = field(default_factory=list)
    counts: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.problems

    def add(self, check: str, subject: str, message: str, *, kind: str = "", objects=None) -> None:
        """A finding: the look that made it (``check``), its ``kind`` (record, person, link,
        blob, audit, ledger), the object it is about (``subject``) and every object concerned
        (``objects``, the subject first), and the message for people."""
        self.problems.append(
            {
                "check": check,
                "kind": kind or KIND_OF_CHECK.get(check, check),
                "subject": subject,
                "objects": list(dict.fromkeys([subject, *(objects or [])])),
                "message": message,
            }
        )

    def as_dict(self) -> dict:
        return {
            "passed": self.passed,
            "seconds": round(self.seconds, 3),
            "counts": self.counts,
            "problems": self.problems,
        }


# --- The chain -----------------------------------------------------------------------------------
def _chain_sql(vendor: str) -> str:
    """Rows ``(seq, previous, day, hash, line)``: ``line`` is ``ledger.entry_line`` built by the
    database as bytes, so Python makes one object per row instead of nine and hashes it as is
    (on PostgreSQL the server builds lines while this process hashes the previous batch)."""
    table = LedgerEntry._meta.db_table
    if vendor == "postgresql":
        at = "to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')"
        day = "to_char(day, 'YYYY-MM-DD')"
        sep, mark = "chr(31)", "%s"
        columns = [
            "seq::text",
            "previous",
            at,
            day,
            "kind",
            "subject",
            "digest",
            "actor",
            "details",
        ]
        line = f"convert_to({f' || {sep} || '.join(columns)}, 'UTF8')"
    else:
        # SQLite keeps ``at`` and ``day`` as the text the hash covers; read as text, since
        # Django's SQLite connection would otherwise parse every date and time.
        day = "CAST(day AS TEXT)"
        sep, mark = "char(31)", "?"
        columns = ["seq", "previous", "at", "day", "kind", "subject", "digest", "actor", "details"]
        line = f"CAST({f' || {sep} || '.join(columns)} AS BLOB)"
    return (
        f"SELECT seq, previous, {day}, hash, {line} "
        f'FROM "{table}" WHERE seq > {mark} AND seq <= {mark} ORDER BY seq LIMIT {CHAIN_BATCH}'
    )


def _rows(lo: int, hi: int):
    """Ledger rows with ``lo < seq <= hi`` as plain tuples, in batches (keyset on ``seq``)."""
    connection.ensure_connection()
    sql = _chain_sql(connection.vendor)
    raw = connection.connection.cursor()
    after = lo
    while True:
        raw.execute(sql, (after, hi))
        batch = raw.fetchall()
        if not batch:
            return
        yield from batch
        after = batch[-1][0]


def walk(lo: int, hi: int) -> dict:
    """Recompute entries ``lo < seq <= hi``: the findings, each day's root and the ends.

    The loop is the hot path of a ten-million-entry verification: one SHA-256 over bytes the
    database built and three comparisons per row. Findings carry entry numbers; the subjects
    are looked up afterwards (``name_chain_problems``)."""
    sha256 = hashlib.sha256
    problems, days = [], {}
    first = None
    expected_seq, last_hash = None, None
    day, leaves, day_first = None, [], None
    count = 0

    def close():
        if day is not None:
            days[day] = {
                "first": day_first,
                "last": expected_seq - 1,
                "count": len(leaves),
                "root": ledger.merkle_root(leaves),
                "last_hash": last_hash,
            }

    for seq, previous, d, stored, line in _rows(lo, hi):
        computed = sha256(line).digest()
        if seq != expected_seq:
            if first is None:
                first = (seq, previous)
            else:
                problems.append(("gap", expected_seq, seq - 1))
        elif previous != last_hash:
            problems.append(("link", seq, seq))
        if computed.hex() != stored:
            problems.append(("hash", seq, seq))
        if d != day:
            close()
            day, leaves, day_first = d, [], seq
        leaves.append(computed)
        expected_seq, last_hash = seq + 1, stored
        count += 1
    close()
    return {
        "problems": problems,
        "days": days,
        "first": first,
        "last": (expected_seq - 1, last_hash) if first else None,
        "count": count,
    }


def _walk_in_child(bounds):
    connections.close_all()  # a forked child must not share the parent's connection
    try:
        return walk(*bounds)
    finally:
        connections.close_all()


def _partitions(workers: int) -> list[tuple[int, int]]:
    """Number ranges ``(lo, hi]`` of whole days, about equal in entries, one per worker."""
    from django.db.models import Count, Max

    per_day = list(
        LedgerEntry.objects.values("day").annotate(last=Max("seq"), n=Count("id")).order_by("day")
    )
    total = sum(d["n"] for d in per_day)
    bounds, lo, taken = [], 0, 0
    for d in per_day:
        taken += d["n"]
        if taken >= total * (len(bounds) + 1) / workers and len(bounds) < workers - 1:
            bounds.append((lo, d["last"]))
            lo = d["last"]
    top = max((d["last"] for d in per_day), default=0)
    bounds.append((lo, max(top, lo)))
    return bounds


def chain_pass(*, workers: int | None = None) -> dict:
    """Walk the whole chain; ``workers`` processes over day ranges (None: by size and CPUs).

    Returns ``{"problems": [(kind, from_seq, to_seq)], "days": {day: …}, "count"}``.
    """
    total = LedgerEntry.objects.count()
    if workers is None:
        workers = 1 if total < PARALLEL_FROM else min(os.cpu_count() or 1, 4)
    bounds = _partitions(workers) if workers > 1 else [(0, 2**62)]
    if len(bounds) == 1:
        parts = [walk(*bounds[0])]
    else:
        import multiprocessing

        connections.close_all()
        with multiprocessing.get_context("fork").Pool(len(bounds)) as pool:
            parts = pool.map(_walk_in_child, bounds)
    problems, days, count = [], {}, 0
    previous_end = (0, "")  # before the first entry: number 0, empty hash
    for part in parts:
        problems += part["problems"]
        days.update(part["days"])
        count += part["count"]
        if part["first"] is None:
            continue
        seq, previous = part["first"]
        if seq != previous_end[0] + 1:
            problems.append(("gap", previous_end[0] + 1, seq - 1))
        elif previous != previous_end[1]:
            problems.append(("link", seq, seq))
        previous_end = part["last"]
    head = LedgerHead.objects.filter(pk=1).first()
    if head is not None and (head.seq, head.hash) != (previous_end[0], previous_end[1]):
        if head.seq > previous_end[0]:
            problems.append(("gap", previous_end[0] + 1, head.seq))
        else:
            problems.append(("head", head.seq, previous_end[0]))
    return {"problems": problems, "days": days, "count": count}


# --- Day roots and the witness -------------------------------------------------------------------
def _witnessed(folder) -> dict:
    found = {}
    if folder is None or not folder.is_dir():
        return found
    for path in sorted(folder.glob("ledger-*.json")):
        try:
            document = json.loads(path.read_text())
            found[document["day"]] = document
        except (OSError, ValueError, KeyError):
            found[path.stem.removeprefix("ledger-")] = None
    return found


def _rewritten(document: dict) -> list[str]:
    """The entries of a witnessed day that are not the ones witnessed: changed in content, or
    gone; when only hashes differ (a chain re-hashed), the first entry that differs."""
    current = {
        row[0]: row
        for row in LedgerEntry.objects.filter(
            seq__gte=document["first_seq"], seq__lte=document["last_seq"]
        ).values_list("seq", "kind", "subject", "digest", "actor", "details", "hash")
    }
    changed, rehashed = [], []
    for seq, _at, kind, subject, digest, actor, details, hash_ in document.get("entries", []):
        row = current.get(seq)
        if row is None or row[1:6] != (kind, subject, digest, actor, details):
            changed.append(f"#{seq} {kind} {subject}")
        elif row[6] != hash_:
            rehashed.append(f"#{seq} {kind} {subject}")
    return changed or rehashed[:1]


def check_days(report: Report, days: dict) -> None:
    """Sealed roots against the recomputed days, their signatures and the witnessed copies."""
    public = ledger.public_key_text(ledger.signing_key())
    folder = ledger.witness_dir()
    witnessed = _witnessed(folder)
    roots = list(DayRoot.objects.order_by("day"))
    report.counts["sealed_days"] = len(roots)
    for root in roots:
        key = root.day.isoformat()
        now = days.get(key)
        if now is None:
            report.add(
                "day_root",
                key,
                _("Sealed day %(day)s has no ledger entries any more.") % {"day": key},
            )
        elif (now["root"], now["count"], now["first"], now["last"], now["last_hash"]) != (
            root.root,
            root.count,
            root.first_seq,
            root.last_seq,
            root.last_hash,
        ):
            report.add(
                "day_root",
                key,
                _(
                    "The entries of %(day)s no longer give its sealed Merkle root "
                    "(%(count)d entries #%(first)d–#%(last)d now, %(sealed_count)d entries "
                    "#%(sealed_first)d–#%(sealed_last)d sealed)."
                )
                % {
                    "day": key,
                    "count": now["count"],
                    "first": now["first"],
                    "last": now["last"],
                    "sealed_count": root.count,
                    "sealed_first": root.first_seq,
                    "sealed_last": root.last_seq,
                },
            )
        if not ledger.signature_ok(root):
            report.add(
                "day_root",
                key,
                _("The signature of the day root of %(day)s is not valid.") % {"day": key},
            )
        elif root.public_key != public:
            report.add(
                "day_root",
                key,
                _("The day root of %(day)s is signed by another key.") % {"day": key},
            )
        if folder is None:
            continue
        document = witnessed.pop(key, False)
        if document is False:
            report.add(
                "witness",
                key,
                _("No witnessed copy of day %(day)s in %(folder)s.")
                % {"day": key, "folder": folder},
            )
        elif document is None:
            report.add(
                "witness",
                key,
                _("The witnessed copy of day %(day)s cannot be read.") % {"day": key},
            )
        elif (
            document.get("root") != (now or {}).get("root")
            or document.get("root") != root.root
            or document.get("last_hash") != root.last_hash
        ):
            named = _rewritten(document)
            report.add(
                "witness",
                key,
                _("Day %(day)s differs from its witnessed copy (root %(root)s…): %(entries)s")
                % {
                    "day": key,
                    "root": str(document.get("root", ""))[:16],
                    "entries": "; ".join(named[:50]) or "—",
                },
            )
            for entry in named[:1000]:
                seq, _kind, subject = entry.split(" ", 2)
                report.add(
                    "witness",
                    subject,
                    _("Ledger entry %(seq)s of %(day)s was rewritten.") % {"seq": seq, "day": key},
                )
    for key in witnessed:
        report.add(
            "witness",
            key,
            _("Day %(day)s is witnessed but its sealed root is gone.") % {"day": key},
        )


def name_chain_problems(report: Report, problems: list) -> None:
    """Report the chain's findings, naming the subject of each entry that is still there."""
    labels = {
        "gap": _("Ledger entries #%(a)d–#%(b)d are missing (removed)."),
        "gone": _("Ledger entry #%(a)d is missing (removed)."),
        "link": _(
            "Ledger entry #%(a)d does not follow the entry before it (removed or reordered)."
        ),
        "hash": _("Ledger entry #%(a)d was altered: its hash no longer matches its content."),
        "head": _("The ledger ends at #%(b)d but its head says #%(a)d."),
    }
    seqs = [a for kind, a, _b in problems[:5000] if kind in ("link", "hash")]
    subjects = dict(LedgerEntry.objects.filter(seq__in=seqs).values_list("seq", "subject"))
    for kind, a, b in problems:
        label = labels["gone" if (kind, a) == ("gap", b) else kind]
        report.add("chain", subjects.get(a) or f"ledger:{a}", label % {"a": a, "b": b})


# --- Records -------------------------------------------------------------------------------------
def _latest(kinds: tuple, prefix: str) -> dict:
    """The latest ledger entry of each subject under ``prefix`` among ``kinds``:
    ``{subject: (kind, digest, seq)}``."""
    from django.db.models import Max

    # A range, not LIKE: the (subject, seq) index then serves it, whatever else the ledger holds
    # (ten million entries, a million of them about persons).
    after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    latest = (
        LedgerEntry.objects.filter(kind__in=kinds, subject__gte=prefix, subject__lt=after)
        .values("subject")
        .annotate(last=Max("seq"))
        .values("last")
    )
    return {
        subject: (kind, digest, seq)
        for subject, kind, digest, seq in LedgerEntry.objects.filter(seq__in=latest).values_list(
            "subject", "kind", "digest", "seq"
        )
    }


def _fields_changed(record) -> list[str]:
    """Which fields differ from the state the audit trail last recorded, to name the edit."""
    from dangan.catalogue.services import snapshot

    known: dict = {}
    for after in (
        AuditEvent.objects.filter(
            object_type=record._meta.label_lower, object_id=str(record.pk), after__isnull=False
        )
        .order_by("id")
        .values_list("after", flat=True)
    ):
        known.update(after or {})
    now = json.loads(ledger.canonical_json(snapshot(record)))
    return sorted(k for k, v in now.items() if k in known and known[k] != v)


def _person_rows_sql(vendor: str) -> str:
    """Rows ``(id, line)``: ``people.digests.person_line`` built by the database, so that a
    million persons cost one SHA-256 each here."""
    from dangan.people.models import Person

    table = Person._meta.db_table
    if vendor == "postgresql":
        sep, birth, mark = "chr(31)", "to_char(birth_date, 'YYYY-MM-DD')", "%s"
    else:
        sep, birth, mark = "char(31)", "CAST(birth_date AS TEXT)", "?"
    line = f" || {sep} || ".join(["id_number", "name", "sex", birth])
    return f'SELECT id, {line} FROM "{table}" WHERE id > {mark} ORDER BY id LIMIT {CHAIN_BATCH}'


def _person_rows():
    connection.ensure_connection()
    sql = _person_rows_sql(connection.vendor)
    raw = connection.connection.cursor()
    after = 0
    while True:
        raw.execute(sql, (after,))
        batch = raw.fetchall()
        if not batch:
            return
        yield from batch
        after = batch[-1][0]


def _person_fields_changed(person_id: int) -> list[str]:
    """Which of name, sex, date of birth, ID number differ from what the audit trail last
    recorded of the person (the ID number is kept masked there: a change inside the mask is
    named as the ID number, the one thing left that can differ)."""
    from dangan.people.models import Person
    from dangan.people.services import person_state

    known: dict = {}
    for after in (
        AuditEvent.objects.filter(
            object_type=Person._meta.label_lower, object_id=str(person_id), after__isnull=False
        )
        .order_by("id")
        .values_list("after", flat=True)
    ):
        known.update(after or {})
    now = person_state(Person.objects.get(pk=person_id))
    return sorted(k for k, v in now.items() if k in known and known[k] != v) or ["id_number"]


def check_persons(report: Report) -> set:
    """Each person's row against their latest ledger entry; the ids of the persons that differ.

    A finding names the person, what changed and every record that concerns them."""
    from dangan.people.models import RecordPerson

    sha256 = hashlib.sha256
    latest = _latest(ledger.PERSON_KINDS, "person:")
    flagged: dict = {}
    count = 0
    for person_id, line in _person_rows():
        count += 1
        entry = latest.pop(f"person:{person_id}", None)
        if entry is None:
            flagged[person_id] = None
        elif "sha256:" + sha256(line.encode()).hexdigest() != entry[1]:
            flagged[person_id] = entry[2]
    records: dict = {}
    for person_id, record_id in RecordPerson.objects.filter(
        person_id__in=list(flagged)[:5000]
    ).values_list("person_id", "record_id"):
        records.setdefault(person_id, []).append(f"record:{record_id}")
    for person_id, seq in flagged.items():
        subject = f"person:{person_id}"
        concerned = sorted(records.get(person_id, []), key=lambda r: int(r.split(":")[1]))
        values = {"person": subject, "records": ", ".join(concerned) or "—"}
        if seq is None:
            message = (
                _(
                    "%(person)s is not in the ledger (added outside the application); "
                    "records: %(records)s."
                )
                % values
            )
        else:
            fields = _person_fields_changed(person_id)
            message = _(
                "%(person)s changed outside the application (%(fields)s); the ledger holds "
                "entry #%(seq)d; records: %(records)s."
            ) % {**values, "fields": ", ".join(fields), "seq": seq}
        report.add("person", subject, message, objects=concerned)
    for subject, (_kind, _digest, seq) in latest.items():
        report.add(
            "person",
            subject,
            _("%(person)s (ledger #%(seq)d) is gone.") % {"person": subject, "seq": seq},
        )
    report.counts["persons"] = count
    return set(flagged)


def _links_by_record():
    """``(record_id, links, link_ids)`` in record order, every record that has persons
    (``people.digests.link_ids_of_rows`` for each)."""
    from dangan.people.digests import LINK_COLUMNS
    from dangan.people.models import RecordPerson

    rows = (
        RecordPerson.objects.order_by("record_id", "position", "id")
        .values_list(*LINK_COLUMNS)
        .iterator(chunk_size=5000)
    )
    current, links, ids = None, [], []
    for record_id, position, role, number, name, sex, birth, person_id in rows:
        if record_id != current:
            if current is not None:
                yield current, links, ids
            current, links, ids = record_id, [], []
        links.append((position, role, number, name, sex, birth))
        ids.append([person_id, role])
    if current is not None:
        yield current, links, ids


def _entry_persons(seq: int):
    details = LedgerEntry.objects.filter(seq=seq).values_list("details", flat=True).first()
    try:
        return json.loads(details or "{}").get("persons")
    except ValueError:
        return None


def _report_links(report, subject, seq, link_ids, flagged_persons) -> None:
    """A record's persons no longer give the digest of its latest entry: say whether its links
    moved (the entry's details name the persons it had) or a person it concerns changed."""
    then = _entry_persons(seq)
    people = lambda ids: [f"person:{pid}" for pid, _role in ids]  # noqa: E731
    if then is not None and then != link_ids:
        gone = [p for p in people(then) if p not in people(link_ids)]
        came = [p for p in people(link_ids) if p not in people(then)]
        report.add(
            "link",
            subject,
            _(
                "%(record)s: who it is about changed outside the application (removed: "
                "%(gone)s; added: %(came)s; the ledger holds entry #%(seq)d)."
            )
            % {
                "record": subject,
                "gone": ", ".join(gone) or "—",
                "came": ", ".join(came) or "—",
                "seq": seq,
            },
            objects=gone + came + ([] if gone or came else people(link_ids)),
        )
        return
    changed = [p for p in people(link_ids) if int(p.split(":")[1]) in flagged_persons]
    report.add(
        "person",
        subject,
        _(
            "%(record)s: a person it concerns changed outside the application (%(persons)s); "
            "the ledger holds entry #%(seq)d."
        )
        % {"record": subject, "persons": ", ".join(changed) or "?", "seq": seq},
        objects=changed,
    )


def check_records(report: Report, flagged_persons: set = frozenset()) -> None:
    """Each record's fields and persons against its latest ledger entry. Entries written before
    persons were covered (a digest without a ``persons:`` part) are compared on the fields."""
    from dangan.catalogue.models import Record
    from dangan.catalogue.services import _DIGEST_FIELDS, PERSONS_PART, fields_digest
    from dangan.people.digests import links_digest

    kinds = (ledger.RECORD_FILED, ledger.RECORD_CHANGED, ledger.RECORD_DESTROYED)
    latest = _latest(kinds, "record:")
    destroyed_state = getattr(Record.State, "DESTROYED", "destroyed")
    names = [f.attname for f in _DIGEST_FIELDS] + ["state", "archival_code"]
    links = _links_by_record()
    pending = next(links, None)
    count = 0
    for record in Record.objects.only(*names).order_by("pk").iterator(chunk_size=2000):
        count += 1
        while pending is not None and pending[0] < record.pk:  # links of a record gone
            pending = next(links, None)
        if pending is not None and pending[0] == record.pk:
            mine, pending = pending, next(links, None)
        else:
            mine = (record.pk, [], [])
        subject = f"record:{record.pk}"
        # Messages name the record by number only: the integrity page shows them to the
        # administrators (三员), who may not read records; the command adds the archival code.
        label = subject
        entry = latest.pop(subject, None)
        if entry is None:
            report.add("record", subject, _("%(record)s is not in the ledger.") % {"record": label})
            continue
        kind, digest, seq = entry
        fields_part, _sep, persons_part = digest.partition(PERSONS_PART)
        fields_ok = fields_digest(record) == fields_part
        persons_ok = not persons_part or links_digest(mine[1]) == persons_part
        if kind == ledger.RECORD_DESTROYED:
            if record.state != destroyed_state:
                report.add(
                    "record",
                    subject,
                    _("%(record)s was destroyed (ledger #%(seq)d) but is not a tombstone.")
                    % {"record": label, "seq": seq},
                )
            elif digest and not (fields_ok and persons_ok):  # the tombstone itself edited
                report.add(
                    "record",
                    subject,
                    _("%(record)s: the tombstone changed since its destruction (ledger #%(seq)d).")
                    % {"record": label, "seq": seq},
                )
            continue
        if record.state == destroyed_state:
            report.add(
                "record",
                subject,
                _("%(record)s is a tombstone with no destruction entry.") % {"record": label},
            )
            continue
        if not fields_ok:
            fields = _fields_changed(Record.objects.get(pk=record.pk))
            report.add(
                "record",
                subject,
                _(
                    "%(record)s: metadata changed outside the application (%(fields)s); "
                    "the ledger holds entry #%(seq)d."
                )
                % {"record": label, "fields": ", ".join(fields) or "?", "seq": seq},
            )
        if not persons_ok:
            _report_links(report, subject, seq, mine[2], flagged_persons)
    for subject, (kind, _digest, seq) in latest.items():
        if kind != ledger.RECORD_DESTROYED:
            report.add(
                "record",
                subject,
                _("%(record)s (ledger #%(seq)d) is gone from the catalogue.")
                % {"record": subject, "seq": seq},
            )
    report.counts["records"] = count


def check_relations(report: Report) -> None:
    """The relations between records on file against the ledger: each one made through the
    application has a ``record.related`` entry as its latest; one removed, ``record.unrelated``.
    A relation added or deleted in the database directly is named."""
    from dangan.catalogue.models import RecordRelation
    from dangan.catalogue.relations import relation_digest, relation_subject

    latest = _latest((ledger.RECORD_RELATED, ledger.RECORD_UNRELATED), "relation:")
    count = 0
    for source, target, kind in RecordRelation.objects.values_list(
        "source_id", "target_id", "kind"
    ).iterator(chunk_size=2000):
        count += 1
        subject = relation_subject(source, target, kind)
        entry = latest.pop(subject, None)
        if entry is None or entry[0] != ledger.RECORD_RELATED:
            report.add(
                "link",
                subject,
                _("The relation %(relation)s is not in the ledger: it was added outside Dangan.")
                % {"relation": subject},
                objects=[f"record:{source}", f"record:{target}"],
            )
        elif entry[1] != relation_digest(source, target, kind):
            report.add(
                "link",
                subject,
                _("The ledger entry #%(seq)d of the relation %(relation)s does not match it.")
                % {"relation": subject, "seq": entry[2]},
            )
    for subject, (kind, _digest, seq) in latest.items():
        if kind == ledger.RECORD_RELATED:
            source, target = subject.split(":")[1:3]
            report.add(
                "link",
                subject,
                _(
                    "The relation %(relation)s (ledger #%(seq)d) is gone: it was removed "
                    "outside Dangan."
                )
                % {"relation": subject, "seq": seq},
                objects=[f"record:{source}", f"record:{target}"],
            )
    report.counts["relations"] = count


# --- Blobs ---------------------------------------------------------------------------------------
def read_blob(store, key: str, with_sm3: bool) -> tuple[str, str | None, int]:
    """Stream a blob in 1 MiB reads: its SHA-256, SM3 (when asked) and size."""
    from dangan.content.digests import sm3

    sha = hashlib.sha256()
    other = sm3() if with_sm3 else None
    size = 0
    stream = store.open(key)
    try:
        while chunk := stream.read(READ_BYTES):
            sha.update(chunk)
            if other is not None:
                other.update(chunk)
            size += len(chunk)
    finally:
        stream.close()
    return sha.hexdigest(), other.hexdigest() if other is not None else None, size


def _sm3_today(blob_id: int, sm3: str) -> bool:
    if sm3 == "all":
        return True
    if sm3 == "none":
        return False
    return (blob_id + datetime.date.today().toordinal()) % SM3_EVERY == 0


def check_bytes(blobs: list, *, workers: int | None = None, sm3: str = "sample") -> dict:
    """Read ``blobs`` (``(id, sha256, sm3, size)``) from the store on ``workers`` threads.

    hashlib and file reads release the GIL, so threads use the cores without processes.
    Returns ``{"bad": {blob_id: message}, "bytes": n, "sm3": n}``."""
    from dangan.content.stores import get_store

    store = get_store()
    workers = workers or min(4, os.cpu_count() or 1)

    language = translation.get_language()  # threads start with none: the caller's, for messages

    def one(blob):
        with translation.override(language):
            return _check_one(store, blob, sm3)

    bad, total, sm3_count = {}, 0, 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="verify") as pool:
        for blob_id, message, size, with_sm3 in pool.map(one, blobs):
            total += size
            sm3_count += with_sm3
            if message:
                bad[blob_id] = message
    return {"bad": bad, "bytes": total, "sm3": sm3_count}


def _check_one(store, blob, sm3: str):
    """One blob re-read: (id, message or None, bytes read, whether SM3 was checked)."""
    from dangan.content.stores import blob_key

    blob_id, sha256, sm3_hex, size = blob
    with_sm3 = bool(sm3_hex) and _sm3_today(blob_id, sm3)  # empty: SM3 not computed yet
    try:
        got_sha, got_sm3, got_size = read_blob(store, blob_key(sha256), with_sm3)
    except FileNotFoundError:
        return blob_id, _("missing from the store"), 0, False
    except Exception as error:  # an unreadable medium, a refused S3 request
        if type(error).__name__ in ("NoSuchKey",) or "404" in str(error):
            return blob_id, _("missing from the store"), 0, False
        return blob_id, _("unreadable (%(error)s)") % {"error": error}, 0, False
    if got_sha != sha256:
        message = _("bytes changed (SHA-256 now %(digest)s…)") % {"digest": got_sha[:16]}
        return blob_id, message, got_size, with_sm3
    if with_sm3 and got_sm3 != sm3_hex:
        message = _("bytes changed (SM3 now %(digest)s…)") % {"digest": got_sm3[:16]}
        return blob_id, message, got_size, with_sm3
    if got_size != size:
        message = _("size %(got)d instead of %(size)d") % {"got": got_size, "size": size}
        return blob_id, message, got_size, with_sm3
    return blob_id, None, got_size, with_sm3


def _records_of(blob_ids) -> dict:
    from dangan.content.models import Page

    named: dict = {}
    for blob_id, record_id in Page.objects.filter(blob_id__in=blob_ids).values_list(
        "blob_id", "record_id"
    ):
        if f"record:{record_id}" not in named.get(blob_id, []):
            named.setdefault(blob_id, []).append(f"record:{record_id}")
    return named


def check_blobs(report: Report, *, workers=None, sm3="sample", read=True) -> None:
    from dangan.content.models import Blob, ledger_digest
    from dangan.content.stores import blob_key, get_store

    # A blob's digests are in its content.added entry (SHA-256, and SM3 before SM3 was filled
    # in later) and, once SM3 is computed, in a content.sm3 entry: the latest must match.
    present = (ledger.CONTENT_ADDED, ledger.CONTENT_SM3)
    latest = _latest((*present, ledger.CONTENT_REMOVED), "blob:")
    live, flagged = [], {}
    for blob_id, sha256, sm3_hex, size in Blob.objects.order_by("pk").values_list(
        "pk", "sha256", "sm3", "size"
    ):
        subject = f"blob:{sha256}"
        entry = latest.pop(subject, None)
        if entry is None:
            flagged[blob_id] = (subject, _("not in the ledger"))
        elif entry[0] in present and entry[1] != ledger_digest(sha256, sm3_hex):
            flagged[blob_id] = (
                subject,
                _("its row differs from ledger entry #%(seq)d") % {"seq": entry[2]},
            )
        if entry is None or entry[0] in present:
            live.append((blob_id, sha256, sm3_hex, size))
    result = check_bytes(live, workers=workers, sm3=sm3) if read else {"bad": {}, "bytes": 0}
    for blob_id, message in result["bad"].items():
        sha256 = next(b[1] for b in live if b[0] == blob_id)
        flagged.setdefault(blob_id, (f"blob:{sha256}", message))
    named = _records_of(list(flagged))
    for blob_id, (subject, message) in sorted(flagged.items()):
        records = named.get(blob_id, [])
        for record in records or [subject]:
            report.add(
                "blob",
                record,
                _("%(record)s: content %(digest)s…: %(finding)s.")
                % {"record": record, "digest": subject[5:21], "finding": message},
                objects=[subject],
            )
    store = get_store()
    for subject, (kind, _digest, seq) in latest.items():
        sha256 = subject.removeprefix("blob:")
        if kind in present:
            report.add(
                "blob",
                subject,
                _("Content %(digest)s… (ledger #%(seq)d) has no row.")
                % {"digest": sha256[:16], "seq": seq},
            )
        elif store.exists(blob_key(sha256)):
            report.add(
                "blob",
                subject,
                _("Content %(digest)s… was destroyed (#%(seq)d) but is still stored.")
                % {"digest": sha256[:16], "seq": seq},
            )
    report.counts.update(blobs=len(live), bytes=result["bytes"], sm3=result.get("sm3", 0))


# --- The audit trail -----------------------------------------------------------------------------
def check_audit(report: Report) -> None:
    from dangan.audit.models import AuditAnchor, AuditEvent
    from dangan.audit.services import verify_chain

    broken = verify_chain()
    if 0 in broken:  # a chain none of whose entries remain, though its head names one
        report.add(
            "audit",
            "audit:0",
            _("A chain of the audit trail lost every entry its head names (removed)."),
        )
    for event_id, object_type, object_id in AuditEvent.objects.filter(
        pk__in=broken[:1000]
    ).values_list("id", "object_type", "object_id"):
        report.add(
            "audit",
            f"{object_type.split('.')[-1]}:{object_id}" if object_type else f"audit:{event_id}",
            _("Audit entry %(id)d (%(object)s) breaks the audit chain.")
            % {"id": event_id, "object": f"{object_type}:{object_id}"},
        )
    pruned_below = {}  # chain: the first entry its newest anchor keeps
    for chain, first_kept in AuditAnchor.objects.order_by("id").values_list(
        "chain", "first_kept_id"
    ):
        pruned_below[chain] = first_kept
    heads = LedgerEntry.objects.filter(kind=ledger.AUDIT_HEAD).values_list(
        "subject", "digest", "details"
    )
    digests, chains = {}, {}
    for subject, digest, details in heads:
        event_id = int(subject.removeprefix("audit:"))
        digests[event_id] = digest.removeprefix("sha256:")
        chains[event_id] = json.loads(details or "{}").get("chain", 1)
    current = dict(AuditEvent.objects.filter(pk__in=list(digests)).values_list("id", "digest"))
    for event_id, digest in digests.items():
        if event_id < pruned_below.get(chains[event_id], 0):
            continue
        if current.get(event_id) != digest:
            report.add(
                "audit",
                f"audit:{event_id}",
                _("Audit entry %(id)d is not the one the ledger sealed (removed or rewritten).")
                % {"id": event_id},
            )
    report.counts["audit_events"] = AuditEvent.objects.count()


# --- All of it -----------------------------------------------------------------------------------
def verify(
    *,
    actor=None,
    workers: int | None = None,
    blob_workers: int | None = None,
    sm3: str = "sample",
    read_blobs: bool = True,
    seal: bool = True,
    keep: bool = True,
    progress=None,
) -> tuple[Report, VerifyRun | None]:
    """Run every check; keep the run (``keep``) for the integrity page. Complete days are
    sealed first (``seal``), so a daily run of ``dangan verify`` is also the daily seal.
    ``progress(done, total)`` is told each step (a job started from the integrity page)."""
    step = progress or (lambda done, total: None)
    steps = 6
    started = timezone.now()
    clock = time.monotonic()
    report = Report()
    step(0, steps)
    if seal:
        ledger.seal_days(actor=actor)
    step(1, steps)
    chain = chain_pass(workers=workers)
    report.counts["entries"] = chain["count"]
    report.counts["days"] = len(chain["days"])
    name_chain_problems(report, chain["problems"])
    check_days(report, chain["days"])
    step(2, steps)
    flagged = check_persons(report)
    step(3, steps)
    check_records(report, flagged)
    check_relations(report)
    step(4, steps)
    check_blobs(report, workers=blob_workers, sm3=sm3, read=read_blobs)
    step(5, steps)
    check_audit(report)
    step(6, steps)
    report.seconds = time.monotonic() - clock
    run = None
    if keep:
        run = VerifyRun.objects.create(
            started_at=started,
            seconds=report.seconds,
            passed=report.passed,
            counts=report.counts,
            problems=report.problems[:KEEP_PROBLEMS],
            created_by=getattr(actor, "username", "") or "system",
        )
        record_event(
            actor=actor,
            action=AuditEvent.Action.CREATE,
            obj=run,
            detail={"passed": report.passed, "problems": len(report.problems)},
        )
    if not report.passed:
        security_alerts.raise_alert(
            kind=security_alerts.Kind.VERIFICATION_FAILED,
            summary=_("The ledger failed verification: %(count)d problems.")
            % {"count": len(report.problems)},
            who=actor,
            link=reverse("integrity:verify-runs"),
            key="ledger",
            detail={"problems": report.problems[:20]},
        )
    return report, run
