"""Mentors for attorneys new to immigration practice (issue 16 #3).

An experienced attorney offers mentoring with a capacity of mentees; a newer one asks for a
mentor. A run pairs them exactly (mentoring.pairing), a coordinator approves each proposal,
which offers it to the mentor, and the mentor accepts or declines. A mentee then shares chosen
cases with the mentor; the mentor sees a shared case in the same stages as an attorney does an
offer: the summary, the party names for the conflict check, the full record after attesting.
"""

from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q

MAX_MENTEES = 5


class MentoringProfile(models.Model):
    """An attorney's mentoring wishes. `active_mentees` counts the mentor's active mentorships
    (proposed, offered, accepted); only mentoring.services changes it, under a row lock, and
    the database refuses a value above `mentee_capacity`."""

    attorney = models.OneToOneField(
        "volunteers.AttorneyProfile", on_delete=models.CASCADE, related_name="mentoring"
    )
    wants_mentor = models.BooleanField("I would like a mentor", default=False)
    wants_mentor_since = models.DateTimeField(null=True, blank=True, editable=False)
    request_note = models.TextField(
        "What would help you most",
        blank=True,
        max_length=500,
        help_text="Shown to the mentor we propose. No client names or case details, please.",
    )
    mentee_capacity = models.PositiveSmallIntegerField(
        "Mentees I can take",
        default=0,
        validators=[MaxValueValidator(MAX_MENTEES)],
    )
    active_mentees = models.PositiveSmallIntegerField(default=0, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(active_mentees__lte=F("mentee_capacity")),
                name="mentor_within_capacity",
            ),
            models.CheckConstraint(
                condition=Q(mentee_capacity__lte=MAX_MENTEES), name="mentee_capacity_sane"
            ),
        ]

    def __str__(self):
        return f"Mentoring of {self.attorney}"

    @property
    def free_slots(self) -> int:
        return max(self.mentee_capacity - self.active_mentees, 0)


class Mentorship(models.Model):
    """One proposed or actual mentor-mentee pairing.

    proposed (by a run) → offered (a coordinator approved it) → accepted | declined;
    rejected (coordinator) ends a proposal; ended (either party) ends an accepted one.
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        OFFERED = "offered", "Offered to the mentor"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined by the mentor"
        REJECTED = "rejected", "Rejected by coordinator"
        ENDED = "ended", "Ended"

    ACTIVE_STATUSES = (Status.PROPOSED, Status.OFFERED, Status.ACCEPTED)

    mentor = models.ForeignKey(
        "volunteers.AttorneyProfile", on_delete=models.CASCADE, related_name="mentees_of"
    )
    # No index of its own: one_mentorship_per_pair's (mentee, mentor) index serves it.
    mentee = models.ForeignKey(
        "volunteers.AttorneyProfile",
        on_delete=models.CASCADE,
        related_name="mentors_of",
        db_index=False,
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    score = models.IntegerField()
    breakdown = models.JSONField(default=dict, help_text="The pair's score, part by part.")
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["mentee"],
                condition=Q(status__in=["proposed", "offered", "accepted"]),
                name="one_active_mentorship_per_mentee",
            ),
            # A declined or rejected pair is never proposed again: its row stays and blocks it.
            models.UniqueConstraint(fields=["mentee", "mentor"], name="one_mentorship_per_pair"),
            models.CheckConstraint(condition=~Q(mentor=F("mentee")), name="mentor_not_mentee"),
            models.CheckConstraint(condition=Q(score__gt=0), name="mentorship_score_positive"),
        ]
        indexes = [
            # Serves the coordinator's review queue: proposals, newest first.
            models.Index(fields=["status", "-created_at"], name="mentorship_status_idx"),
        ]

    def __str__(self):
        return f"{self.mentor} mentors {self.mentee} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class CaseShare(models.Model):
    """A mentee's accepted case, shared with their mentor. The mentor sees the party names to
    check conflicts and the full record only once `conflict_attested_at` is set."""

    mentorship = models.ForeignKey(Mentorship, on_delete=models.CASCADE, related_name="shares")
    match = models.ForeignKey(
        "matching.Match", on_delete=models.CASCADE, related_name="mentor_shares"
    )
    shared_at = models.DateTimeField(auto_now_add=True)
    conflict_attested_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-shared_at"]
        constraints = [
            models.UniqueConstraint(fields=["mentorship", "match"], name="one_share_per_case"),
        ]

    def __str__(self):
        return f"Case shared in {self.mentorship_id}"
