"""Relations between records under the ledger, for archives that made relations before they
were: each relation on file without a ledger entry gets a ``record.related`` entry (details
``{"anchored": "relations"}``), so that ``dangan verify``, which now holds the relations to the
ledger, passes on them; from now on ``catalogue.relations`` writes the entries itself. Written
with this migration's own models and the ledger's pure functions, as 0004 did for persons."""

import datetime

from django.db import migrations
from django.utils import timezone


def anchor(apps, schema_editor):
    from dangan.catalogue.relations import relation_digest, relation_subject
    from dangan.integrity import ledger

    LedgerEntry = apps.get_model("integrity", "LedgerEntry")
    LedgerHead = apps.get_model("integrity", "LedgerHead")
    RecordRelation = apps.get_model("catalogue", "RecordRelation")

    relations = list(
        RecordRelation.objects.order_by("pk").values_list(
            "source_id", "target_id", "kind", "source__archival_code", "target__archival_code"
        )
    )
    known = set(
        LedgerEntry.objects.filter(subject__startswith="relation:").values_list(
            "subject", flat=True
        )
    )
    relations = [r for r in relations if relation_subject(*r[:3]) not in known]
    if not relations:
        return
    head, _created = LedgerHead.objects.select_for_update().get_or_create(pk=1)
    at = timezone.now().replace(microsecond=0)
    at_text = at.astimezone(datetime.UTC).strftime(ledger.AT_FORMAT)
    day = timezone.localdate(at).isoformat()
    seq, previous, rows = head.seq, head.hash, []
    for source, target, kind, source_code, target_code in relations:
        seq += 1
        subject = relation_subject(source, target, kind)
        digest = relation_digest(source, target, kind)
        details = {
            "source": source_code,
            "target": target_code,
            "kind": kind,
            "anchored": "relations",
        }
        text = ledger.canonical_json(details)
        line = ledger.entry_line(
            seq, previous, at_text, day, ledger.RECORD_RELATED, subject, digest, "system", text
        )
        hash_ = ledger.entry_hash(line)
        rows.append(
            LedgerEntry(
                seq=seq,
                at=at,
                day=day,
                kind=ledger.RECORD_RELATED,
                subject=subject,
                digest=digest,
                actor="system",
                details=text,
                previous=previous,
                hash=hash_,
            )
        )
        previous = hash_
    LedgerEntry.objects.bulk_create(rows, batch_size=2000)
    head.seq, head.hash = seq, previous
    head.save(update_fields=["seq", "hash"])


class Migration(migrations.Migration):
    dependencies = [
        ("integrity", "0005_filed_at_from_ledger"),
        ("catalogue", "0009_record_relations"),
    ]

    operations = [migrations.RunPython(anchor, migrations.RunPython.noop)]
