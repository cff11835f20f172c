from django.db import migrations


def install(apps, schema_editor):
    from dangan.oversight import checklist

    checklist.install(apps)


class Migration(migrations.Migration):
    dependencies = [("oversight", "0001_initial")]

    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
