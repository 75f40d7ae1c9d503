"""The move of the pledge tables from volunteers to pledges keeps every row (issue 14).

The database is migrated back to before the move, rows are written with the models of that
time, and the database is migrated forward: the same rows (ids, many-to-many links, managers)
are read through today's models, and the content types keep their ids.
"""

from datetime import date

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from pledges.models import OrganizationManager, Pledge

pytestmark = pytest.mark.django_db(transaction=True)
BEFORE_THE_MOVE = ("volunteers", "0003_organization_managers")


def _migrate(*, before_the_move: bool):
    """Every app at its latest migration; or volunteers back to before the move, which unapplies
    the move and every migration of any app that came to depend on it (Django's backwards plan
    follows the dependents), so apps and indexes born later need no list here."""
    executor = MigrationExecutor(connection)
    graph = executor.loader.graph
    executor.migrate([BEFORE_THE_MOVE] if before_the_move else graph.leaf_nodes())
    executor.loader.build_graph()
    applied = set(executor.loader.applied_migrations)
    heads = [
        node
        for node in applied
        if not any(child in applied for child in graph.node_map[node].children)
    ]
    return executor.loader.project_state(heads).apps


def _rows_before_the_move(apps):
    """Rows written through the volunteers models, as the code before the move did."""
    user = apps.get_model("auth", "User").objects.create(username="manager@example.org")
    organization = apps.get_model("volunteers", "Organization").objects.create(
        name="Hayes & Lane LLP", kind="law_firm", confirmed=True
    )
    court = apps.get_model("cases", "ImmigrationCourt").objects.create(
        code="nyc", name="New York", city="New York", state="NY", zip_code="10278",
        latitude=40.7, longitude=-74.0,
    )  # fmt: skip
    pledge = apps.get_model("volunteers", "Pledge").objects.create(
        organization=organization, contact_name="Pat", contact_email="pat@example.org",
        kind="hours", amount=120, period_start=date(2026, 1, 1), period_end=date(2027, 1, 1),
        status="approved", public=True,
    )  # fmt: skip
    pledge.courts.add(court)
    manager = apps.get_model("volunteers", "OrganizationManager").objects.create(
        user=user, organization=organization
    )
    return pledge.pk, manager.pk, court.pk


def test_the_pledge_tables_move_with_every_row():
    ContentType.objects.clear_cache()
    try:
        apps = _migrate(before_the_move=True)
        content_type = apps.get_model("contenttypes", "ContentType")
        old_type = content_type.objects.get(app_label="volunteers", model="pledge").pk
        pledge_id, manager_id, court_id = _rows_before_the_move(apps)
    finally:
        _migrate(before_the_move=False)
        ContentType.objects.clear_cache()

    pledge = Pledge.objects.get(pk=pledge_id)
    assert (pledge.organization.name, pledge.amount, pledge.status) == (
        "Hayes & Lane LLP",
        120,
        "approved",
    )
    assert list(pledge.courts.values_list("pk", flat=True)) == [court_id]
    manager = OrganizationManager.objects.get(pk=manager_id)
    assert manager.organization_id == pledge.organization_id
    assert ContentType.objects.get_for_model(Pledge).pk == old_type  # permissions, events follow
    assert not ContentType.objects.filter(app_label="volunteers", model="pledge").exists()
    # The id sequence went with the table: a new pledge gets a fresh id.
    pledge.pk = None
    pledge.kind = "cases"
    pledge.save()
    assert pledge.pk > pledge_id
