from django.db import migrations


def install(apps, schema_editor):
    from dangan.catalogue import bureau

    bureau.install(apps)


class Migration(migrations.Migration):
    dependencies = [("catalogue", "0002_initial"), ("accounts", "0002_initial"), ("people", "0001_initial")]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
