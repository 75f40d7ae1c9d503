"""The pledges app takes over the tables volunteers created (issue 14), keeping every row.

State only for the models (the tables already exist, under their volunteers_ names, until
0002 renames them); the content types move with them, so permissions, group grants, admin log
entries and domain events keep pointing at the same rows.
"""

import django.core.validators
import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


MODELS = ("pledge", "organizationmanager")


def _content_types_move(apps, source: str, target: str) -> None:
    """Relabel the models' content types in place (same ids). Skipped for a model whose target
    content type already exists: nothing is merged or deleted."""
    content_type = apps.get_model("contenttypes", "ContentType")
    for model in MODELS:
        if not content_type.objects.filter(app_label=target, model=model).exists():
            content_type.objects.filter(app_label=source, model=model).update(app_label=target)


def _content_types_to_pledges(apps, schema_editor):
    _content_types_move(apps, "volunteers", "pledges")


def _content_types_to_volunteers(apps, schema_editor):
    _content_types_move(apps, "pledges", "volunteers")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("cases", "0006_hot_case_claims"),
        ("volunteers", "0004_pledges_moved_out"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="OrganizationManager",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="managers",
                                to="volunteers.organization",
                            ),
                        ),
                        (
                            "user",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="organization_managers",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["organization__name"],
                        "db_table": "volunteers_organizationmanager",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("user", "organization"), name="organization_manager_unique"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Pledge",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("contact_name", models.CharField(max_length=120)),
                        ("contact_email", models.EmailField(max_length=254)),
                        ("contact_phone", models.CharField(blank=True, max_length=32)),
                        (
                            "kind",
                            models.CharField(
                                choices=[
                                    ("hours", "Hours per year"),
                                    ("cases", "Cases"),
                                    ("attorneys", "Attorneys"),
                                ],
                                max_length=10,
                            ),
                        ),
                        (
                            "amount",
                            models.PositiveIntegerField(
                                validators=[
                                    django.core.validators.MinValueValidator(1),
                                    django.core.validators.MaxValueValidator(1000000),
                                ]
                            ),
                        ),
                        ("period_start", models.DateField()),
                        ("period_end", models.DateField()),
                        ("message", models.TextField(blank=True, max_length=2000)),
                        (
                            "public",
                            models.BooleanField(
                                default=False, verbose_name="Consents to be listed publicly"
                            ),
                        ),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("unconfirmed", "Email not confirmed"),
                                    ("pending", "Awaiting review"),
                                    ("approved", "Approved"),
                                    ("rejected", "Rejected"),
                                    ("withdrawn", "Withdrawn"),
                                ],
                                default="unconfirmed",
                                max_length=12,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("confirmed_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "confirmation_sent_at",
                            models.DateTimeField(blank=True, editable=False, null=True),
                        ),
                        ("decided_at", models.DateTimeField(blank=True, editable=False, null=True)),
                        (
                            "case_types",
                            models.ManyToManyField(
                                blank=True, related_name="pledges", to="cases.casetype"
                            ),
                        ),
                        (
                            "courts",
                            models.ManyToManyField(
                                blank=True, related_name="pledges", to="cases.immigrationcourt"
                            ),
                        ),
                        (
                            "languages",
                            models.ManyToManyField(
                                blank=True, related_name="+", to="cases.language"
                            ),
                        ),
                        (
                            "organization",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="pledges",
                                to="volunteers.organization",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at"],
                        "db_table": "volunteers_pledge",
                        "indexes": [
                            models.Index(
                                condition=models.Q(("public", True), ("status", "approved")),
                                fields=["kind"],
                                name="pledge_wall_idx",
                            ),
                            models.Index(
                                condition=models.Q(("public", True), ("status", "approved")),
                                fields=["-decided_at", "-id"],
                                name="pledge_wall_order_idx",
                            ),
                            models.Index(
                                condition=models.Q(
                                    ("confirmation_sent_at__isnull", True),
                                    ("status", "unconfirmed"),
                                ),
                                fields=["created_at"],
                                name="pledge_confirm_unsent_idx",
                            ),
                        ],
                        "constraints": [
                            models.CheckConstraint(
                                condition=models.Q(("amount__gte", 1)),
                                name="pledge_amount_positive",
                            ),
                            models.UniqueConstraint(
                                models.F("organization"),
                                django.db.models.functions.text.Lower("contact_email"),
                                models.F("kind"),
                                condition=models.Q(
                                    ("status__in", ["unconfirmed", "pending", "approved"])
                                ),
                                name="pledge_one_live_per_org_email_kind",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("period_end__gt", models.F("period_start"))),
                                name="pledge_period_ordered",
                            ),
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(_content_types_to_pledges, _content_types_to_volunteers),
    ]
