"""Person.name_folded: the simplified form of the name, for 简/繁-insensitive search."""

from django.db import migrations, models


def fill_name_folded(apps, schema_editor):
    from dangan.people.names import fold

    Person = apps.get_model("people", "Person")
    batch = []
    for person in Person.objects.only("pk", "name").iterator(chunk_size=2000):
        person.name_folded = fold(person.name)
        batch.append(person)
        if len(batch) >= 2000:
            Person.objects.bulk_update(batch, ["name_folded"])
            batch = []
    Person.objects.bulk_update(batch, ["name_folded"])


class Migration(migrations.Migration):

    dependencies = [
        ("people", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="person",
            name="name_folded",
            field=models.CharField(blank=True, db_index=True, editable=False, max_length=50),
        ),
        migrations.RunPython(fill_name_folded, migrations.RunPython.noop),
    ]
