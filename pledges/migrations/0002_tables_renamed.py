"""The pledge tables take the pledges app's names (rows, ids and sequences untouched; the
many-to-many tables of Pledge are renamed with it)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("pledges", "0001_initial"),
    ]

    operations = [
        migrations.AlterModelTable(name="organizationmanager", table=None),
        migrations.AlterModelTable(name="pledge", table=None),
    ]
