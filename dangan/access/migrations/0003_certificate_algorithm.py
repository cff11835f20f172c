from django.db import migrations, models


class Migration(migrations.Migration):
    """Certificates are signed with SM2 from now on; those issued before keep Ed25519."""

    dependencies = [("access", "0002_certificate_revocation")]

    operations = [
        migrations.AddField(
            model_name="certificate",
            name="algorithm",
            field=models.CharField(
                default="ed25519", max_length=16, verbose_name="signature algorithm"
            ),
        ),
        migrations.AlterField(
            model_name="certificate",
            name="algorithm",
            field=models.CharField(default="sm2", max_length=16, verbose_name="signature algorithm"),
        ),
    ]
