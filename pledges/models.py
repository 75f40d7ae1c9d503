"""Pledges: an organization's public commitment, and the people who manage its pledges.

The tables were created by the volunteers app and moved here without copying a row
(migrations pledges/0001, volunteers/0004).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower


class Pledge(models.Model):
    """An organization's public commitment of pro bono support."""

    class Kind(models.TextChoices):
        HOURS = "hours", "Hours per year"
        CASES = "cases", "Cases"
        ATTORNEYS = "attorneys", "Attorneys"

    class Status(models.TextChoices):
        UNCONFIRMED = "unconfirmed", "Email not confirmed"
        PENDING = "pending", "Awaiting review"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"
        WITHDRAWN = "withdrawn", "Withdrawn"

    organization = models.ForeignKey(
        "volunteers.Organization", on_delete=models.PROTECT, related_name="pledges"
    )
    contact_name = models.CharField(max_length=120)
    contact_email = models.EmailField()
    contact_phone = models.CharField(max_length=32, blank=True)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.PositiveIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(1_000_000)]
    )
    period_start = models.DateField()
    period_end = models.DateField()
    courts = models.ManyToManyField("cases.ImmigrationCourt", blank=True, related_name="pledges")
    languages = models.ManyToManyField("cases.Language", blank=True, related_name="+")
    case_types = models.ManyToManyField("cases.CaseType", blank=True, related_name="pledges")
    message = models.TextField(blank=True, max_length=2000)
    public = models.BooleanField("Consents to be listed publicly", default=False)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UNCONFIRMED)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Set when the confirmation email is claimed for sending (conditional update): the row, not
    # the broker, is the source of truth, so the sweeper re-enqueues what the broker lost and a
    # second delivery of the task sends nothing (REL-2, STYLE 9, 10).
    confirmation_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    # True when this pledge's submission created its organization. Only then may its contact
    # become the organization's manager on claiming; a pledge that found an existing
    # organization by name asks its manager or a coordinator first (issue 11 #8).
    organization_created = models.BooleanField(default=False, editable=False)

    LIVE_STATUSES = (Status.UNCONFIRMED, Status.PENDING, Status.APPROVED)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=1), name="pledge_amount_positive"),
            # A repeated pledge from the same organization and email is recognised, never
            # duplicated (pledge_submit updates the live one; this catches a race).
            models.UniqueConstraint(
                "organization",
                Lower("contact_email"),
                "kind",
                name="pledge_one_live_per_org_email_kind",
                condition=Q(status__in=["unconfirmed", "pending", "approved"]),
            ),
            models.CheckConstraint(
                condition=Q(period_end__gt=F("period_start")), name="pledge_period_ordered"
            ),
        ]
        indexes = [
            # Serves the pledge wall: approved public pledges.
            models.Index(
                fields=["kind"], name="pledge_wall_idx", condition=Q(status="approved", public=True)
            ),
            # Serves the wall's page: approved public pledges, latest decisions first.
            models.Index(
                fields=["-decided_at", "-id"],
                name="pledge_wall_order_idx",
                condition=Q(status="approved", public=True),
            ),
            # Serves the confirmation sweeper: submitted, email not yet sent.
            models.Index(
                fields=["created_at"],
                name="pledge_confirm_unsent_idx",
                condition=Q(status="unconfirmed", confirmation_sent_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"{self.organization}: {self.amount} {self.get_kind_display().lower()}"


class OrganizationManager(models.Model):
    """A user who manages an organization's pledges: claimed by a pledge's contact (issue 7).

    A manager sees the organization's pledges and their progress, invites attorneys with a
    signed link that affiliates them with the organization on sign-up, and approves requests to
    join or manage it. A claim is approved at once only from the pledge that created the
    organization; any other waits for an approved manager or a coordinator (`approved_at`).
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organization_managers"
    )
    organization = models.ForeignKey(
        "volunteers.Organization", on_delete=models.CASCADE, related_name="managers"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Empty while the claim waits for the organization's manager or a coordinator: a pending
    # manager sees nothing of the organization.
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["organization__name"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "organization"], name="organization_manager_unique"
            ),
        ]

    def __str__(self):
        return f"{self.user} manages {self.organization}"
