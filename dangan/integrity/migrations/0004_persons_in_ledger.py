"""Persons under the ledger, for archives made before they were.

Record entries written before this version carry a digest of the record's fields only
(``sha256:<hex>``); from now on a record's digest also covers who it is about
(``sha256:<hex> persons:<hex>``, see ``catalogue.services.metadata_digest``). ``dangan verify``
compares an old entry on the fields only, so every old ledger still verifies. This migration
then anchors what is on file now:

* each person without an entry gets a ``person.added`` entry of their current row;
* each record whose latest entry is an old one *and still matches it* gets a ``record.changed``
  entry with the full digest (its persons included). A record that no longer matches (edited
  behind the application's back before the upgrade) is left alone: ``dangan verify`` keeps
  naming it.

The entries' details say ``{"anchored": "persons"}``. Written with this migration's own models
and the ledger's pure functions (``entry_line``, ``entry_hash``), in batches.
"""

import datetime

from django.db import migrations
from django.db.models import Max
from django.utils import timezone

BATCH = 5000


def _fields_digest(record, fields):
    from dangan.integrity.ledger import sha256_of

    return sha256_of({f.name: f.value_from_object(record) for f in fields})


def anchor(apps, schema_editor):
    from dangan.integrity import ledger
    from dangan.people.digests import LINK_COLUMNS, link_ids_of_rows, links_digest, person_digest

    LedgerEntry = apps.get_model("integrity", "LedgerEntry")
    LedgerHead = apps.get_model("integrity", "LedgerHead")
    Person = apps.get_model("people", "Person")
    RecordPerson = apps.get_model("people", "RecordPerson")
    Record = apps.get_model("catalogue", "Record")

    if not Person.objects.exists() and not Record.objects.exists():
        return
    head, _created = LedgerHead.objects.select_for_update().get_or_create(pk=1)
    at = timezone.now().replace(microsecond=0)
    at_text = at.astimezone(datetime.UTC).strftime(ledger.AT_FORMAT)
    day = timezone.localdate(at).isoformat()
    state = {"seq": head.seq, "previous": head.hash, "rows": []}

    def add(kind, subject, digest, details):
        state["seq"] += 1
        text = ledger.canonical_json(details)
        line = ledger.entry_line(
            state["seq"], state["previous"], at_text, day, kind, subject, digest, "system", text
        )
        hash_ = ledger.entry_hash(line)
        state["rows"].append(
            LedgerEntry(
                seq=state["seq"],
                at=at,
                day=day,
                kind=kind,
                subject=subject,
                digest=digest,
                actor="system",
                details=text,
                previous=state["previous"],
                hash=hash_,
            )
        )
        state["previous"] = hash_
        if len(state["rows"]) >= BATCH:
            LedgerEntry.objects.bulk_create(state["rows"])
            state["rows"] = []

    anchored = {"anchored": "persons"}
    known = set(
        LedgerEntry.objects.filter(subject__startswith="person:").values_list("subject", flat=True)
    )
    for person in Person.objects.order_by("pk").iterator(chunk_size=BATCH):
        if f"person:{person.pk}" not in known:
            add(ledger.PERSON_ADDED, f"person:{person.pk}", person_digest(person), anchored)

    fields = [
        f for f in Record._meta.concrete_fields if f.editable and f.name != "created_by"
    ]
    kinds = (ledger.RECORD_FILED, ledger.RECORD_CHANGED, ledger.RECORD_DESTROYED)
    last = (
        LedgerEntry.objects.filter(kind__in=kinds, subject__startswith="record:")
        .values("subject")
        .annotate(last=Max("seq"))
        .values("last")
    )
    old = {
        int(subject.split(":")[1]): digest
        for subject, kind, digest in LedgerEntry.objects.filter(seq__in=last).values_list(
            "subject", "kind", "digest"
        )
        if kind != ledger.RECORD_DESTROYED and " persons:" not in digest
    }
    ids = sorted(old)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        rows = (
            RecordPerson.objects.filter(record_id__in=chunk)
            .order_by("record_id", "position", "id")
            .values_list(*LINK_COLUMNS)
        )
        links, link_ids = link_ids_of_rows(rows)
        for record in Record.objects.filter(pk__in=chunk).order_by("pk"):
            fields_part = _fields_digest(record, fields)
            if fields_part != old[record.pk]:
                continue  # changed behind the application's back: verify names it
            digest = f"{fields_part} persons:{links_digest(links.get(record.pk, []))}"
            details = {
                "archival_code": record.archival_code,
                "state": record.state,
                "persons": link_ids.get(record.pk, []),
                **anchored,
            }
            add(ledger.RECORD_CHANGED, f"record:{record.pk}", digest, details)
    if state["rows"]:
        LedgerEntry.objects.bulk_create(state["rows"])
    head.seq, head.hash = state["seq"], state["previous"]
    head.save(update_fields=["seq", "hash"])


class Migration(migrations.Migration):
    dependencies = [
        ("integrity", "0003_fixity_alerts_backups"),
        ("people", "0004_link_position_and_merges"),
        ("catalogue", "0007_record_index_cleanup"),
    ]

    operations = [migrations.RunPython(anchor, migrations.RunPython.noop)]
