"""Links keep their order; persons found to be one can be merged (and the merge undone)."""

import django.db.models.deletion
from django.db import migrations, models


def number_links(apps, schema_editor):
    """Links made before kept their order only in their ids: number them in that order."""
    RecordPerson = apps.get_model("people", "RecordPerson")
    batch, record, position = [], None, 0
    for link in RecordPerson.objects.order_by("record_id", "id").only("id", "record_id"):
        position = position + 1 if link.record_id == record else 0
        record = link.record_id
        if position:
            link.position = position
            batch.append(link)
        if len(batch) >= 2000:
            RecordPerson.objects.bulk_update(batch, ["position"])
            batch = []
    RecordPerson.objects.bulk_update(batch, ["position"])


class Migration(migrations.Migration):

    dependencies = [
        ('people', '0003_id_reversed'),
    ]

    operations = [
        migrations.AddField(
            model_name='person',
            name='merged_into',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='merged', to='people.person', verbose_name='merged into'),
        ),
        migrations.AddField(
            model_name='recordperson',
            name='position',
            field=models.PositiveSmallIntegerField(default=0, verbose_name='order'),
        ),
        migrations.CreateModel(
            name='PersonMerge',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('links', models.JSONField(default=list)),
                ('reason', models.TextField(verbose_name='reason')),
                ('merged_by', models.CharField(max_length=150, verbose_name='merged by')),
                ('merged_at', models.DateTimeField(auto_now_add=True, verbose_name='merged')),
                ('undone_by', models.CharField(blank=True, max_length=150, verbose_name='undone by')),
                ('undone_at', models.DateTimeField(blank=True, null=True, verbose_name='undone')),
                ('undo_reason', models.TextField(blank=True, verbose_name='reason for the undo')),
                ('kept', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='merges_kept', to='people.person')),
                ('merged', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='merges_merged', to='people.person')),
            ],
            options={
                'verbose_name': 'merge of persons',
                'verbose_name_plural': 'merges of persons',
                'ordering': ['-merged_at', '-id'],
            },
        ),
        migrations.RunPython(number_links, migrations.RunPython.noop),
    ]
