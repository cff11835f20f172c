from django.db import migrations, models


class Migration(migrations.Migration):
    """The covering index of the dashboard's holdings (stats.selectors.holdings)."""

    dependencies = [
        ("catalogue", "0004_list_indexes"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="record",
            index=models.Index(
                fields=["category", "year", "unit", "retention", "level", "fonds", "secrecy"],
                name="record_stats",
            ),
        ),
    ]
