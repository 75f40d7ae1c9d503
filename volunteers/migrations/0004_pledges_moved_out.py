"""Pledge and OrganizationManager move to the pledges app (issue 14).

State only: the tables stay, with every row; pledges/0001 takes them over under their old
names and pledges/0002 renames them.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("volunteers", "0003_organization_managers"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="OrganizationManager"),
                migrations.DeleteModel(name="Pledge"),
            ],
            database_operations=[],
        ),
    ]
