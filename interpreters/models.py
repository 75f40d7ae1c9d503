"""Volunteer interpreters, and the attorney + interpreter teams for rare languages (issue 16 #4).

A case in a language no eligible attorney in range speaks (K'iche', Mam, Q'anjob'al, Haitian
Creole...) can go to a team: an attorney who speaks a bridge language (Spanish, English) and an
interpreter who speaks the case's language and that bridge. The team stage (interpreters.teams)
proposes both at once: the attorney's side is an ordinary matching.Match, the interpreter's a
TeamInterpreter on it. The case is represented only when both have accepted.
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q

from volunteers.models import zip_validator


class InterpreterProfile(models.Model):
    """The interpreter's side of the supply. `active_assignments` counts the interpreter's
    active teams; only interpreters.services changes it, under a row lock, and the database
    refuses a value above `capacity`."""

    class Verification(models.TextChoices):
        PENDING = "pending", "Pending"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="interpreter"
    )
    verification = models.CharField(
        max_length=10, choices=Verification.choices, default=Verification.PENDING
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    home_zip = models.CharField(max_length=5, validators=[zip_validator])
    latitude = models.DecimalField(max_digits=8, decimal_places=5)
    longitude = models.DecimalField(max_digits=8, decimal_places=5)
    travel_radius_miles = models.PositiveSmallIntegerField(
        default=50, validators=[MaxValueValidator(3000)]
    )
    remote_ok = models.BooleanField("Willing to interpret by phone or video", default=True)
    capacity = models.PositiveSmallIntegerField(
        default=2, validators=[MaxValueValidator(20)], help_text="Cases at once."
    )
    active_assignments = models.PositiveSmallIntegerField(default=0, editable=False)
    languages = models.ManyToManyField(
        "cases.Language", through="InterpreterLanguage", related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(active_assignments__lte=F("capacity")),
                name="interpreter_within_capacity",
            ),
            models.CheckConstraint(condition=Q(capacity__lte=20), name="interpreter_capacity_sane"),
        ]

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()

    @property
    def free_capacity(self) -> int:
        return max(self.capacity - self.active_assignments, 0)


class InterpreterLanguage(models.Model):
    class Proficiency(models.IntegerChoices):
        CONVERSATIONAL = 1, "Conversational"
        PROFESSIONAL = 2, "Professional working"
        FLUENT = 3, "Fluent"
        NATIVE = 4, "Native"

    interpreter = models.ForeignKey(
        InterpreterProfile, on_delete=models.CASCADE, related_name="language_skills"
    )
    language = models.ForeignKey("cases.Language", on_delete=models.PROTECT, related_name="+")
    proficiency = models.PositiveSmallIntegerField(choices=Proficiency.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["interpreter", "language"], name="one_interpreter_proficiency"
            ),
            models.CheckConstraint(
                condition=Q(proficiency__gte=1, proficiency__lte=4),
                name="interpreter_proficiency_known",
            ),
        ]

    def __str__(self):
        return f"{self.language_id}: {self.get_proficiency_display()}"


class TeamInterpreter(models.Model):
    """The interpreter of a team on the attorney's match, which carries the case.

    active (proposed with the match; offered when the match is) → accepted | declined;
    withdrawn when the attorney's match ends without representation. A declined interpreter is
    replaced by another on the same match (interpreters.services.team_decline), so a match has
    at most one live interpreter and keeps the declined ones as its history.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Proposed or offered"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        WITHDRAWN = "withdrawn", "Withdrawn"

    LIVE_STATUSES = (Status.ACTIVE, Status.ACCEPTED)

    match = models.ForeignKey(
        "matching.Match", on_delete=models.CASCADE, related_name="team_interpreters"
    )
    interpreter = models.ForeignKey(
        InterpreterProfile, on_delete=models.CASCADE, related_name="assignments"
    )
    bridge_language = models.ForeignKey(
        "cases.Language", on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    score = models.IntegerField()
    conflict_attested_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__gt=0), name="team_interpreter_score_positive"
            ),
            # One interpreter per team at a time; serves team_ready and team_end_for_match,
            # which read the match's live interpreter.
            models.UniqueConstraint(
                fields=["match"],
                condition=Q(status__in=["active", "accepted"]),
                name="one_live_interpreter_per_match",
            ),
        ]

    def __str__(self):
        return f"Interpreter for match {self.match_id} ({self.get_status_display()})"
