"""Records filed before ``Record.filed_at`` existed: the moment of their ``record.filed``
ledger entry (the catalogue's migration gave them their creation time, which is the same for
records filed as they were described, and earlier for drafts filed later)."""

from django.db import migrations
from django.db.models import CharField, Exists, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat


def filed_at_from_ledger(apps, schema_editor):
    Record = apps.get_model("catalogue", "Record")
    LedgerEntry = apps.get_model("integrity", "LedgerEntry")
    first_filing = (
        LedgerEntry.objects.filter(
            kind="record.filed",
            subject=Concat(Value("record:"), Cast(OuterRef("pk"), CharField())),
        )
        .order_by("seq")
        .values("at")[:1]
    )
    has_entry = LedgerEntry.objects.filter(
        kind="record.filed",
        subject=Concat(Value("record:"), Cast(OuterRef("pk"), CharField())),
    )

    Record.objects.filter(Exists(has_entry), state__in=("filed", "purged")).update(
        filed_at=Subquery(first_filing)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("integrity", "0004_persons_in_ledger"),
        ("catalogue", "0010_record_filed_at"),
    ]

    operations = [
        migrations.RunPython(filed_at_from_ledger, migrations.RunPython.noop, elidable=True),
    ]
