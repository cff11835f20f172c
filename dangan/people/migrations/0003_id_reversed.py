"""Person.id_reversed: the ID number backwards, so that a search by its last digits uses an index."""

from django.db import migrations, models


def fill(apps, schema_editor):
    Person = apps.get_model("people", "Person")
    batch = []
    for person in Person.objects.only("pk", "id_number").iterator(chunk_size=2000):
        person.id_reversed = person.id_number[::-1]
        batch.append(person)
        if len(batch) >= 2000:
            Person.objects.bulk_update(batch, ["id_reversed"])
            batch = []
    Person.objects.bulk_update(batch, ["id_reversed"])


class Migration(migrations.Migration):
    dependencies = [("people", "0002_name_folded")]

    operations = [
        migrations.AddField(
            model_name="person",
            name="id_reversed",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=18),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
