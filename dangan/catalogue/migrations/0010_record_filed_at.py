"""归档时间: when each record was filed, for the advanced search's filing-date range and the
statistics of records received. Records filed before this version get the moment they were
created (the integrity app's migration then puts the time of their ledger entry instead)."""

from django.db import migrations, models
from django.db.models import F


def created_is_filed(apps, schema_editor):
    Record = apps.get_model("catalogue", "Record")
    Record.objects.filter(state__in=("filed", "purged"), filed_at__isnull=True).update(filed_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [
        ("catalogue", "0009_record_relations"),
    ]

    operations = [
        migrations.AddField(
            model_name="record",
            name="filed_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="filed"),
        ),
        migrations.RunPython(created_is_filed, migrations.RunPython.noop, elidable=True),
    ]
