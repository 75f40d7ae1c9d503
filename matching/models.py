from django.conf import settings
from django.db import models
from django.db.models import Q, TextChoices

from matching.breakdown import BreakdownField


class MatchingRun(models.Model):
    """One execution of the matching pipeline, with its statistics."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        FINISHED = "finished", "Finished"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (another run held the lock)"

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    trigger = models.CharField(
        max_length=20, default="schedule", help_text="schedule, admin, event…"
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    cases_considered = models.PositiveIntegerField(default=0)
    attorneys_considered = models.PositiveIntegerField(default=0)
    cells = models.PositiveIntegerField(default=0)
    arcs = models.PositiveBigIntegerField(default=0)
    proposals = models.PositiveIntegerField(default=0)
    objective = models.BigIntegerField(null=True, blank=True)
    greedy_objective = models.BigIntegerField(null=True, blank=True)
    stats = models.JSONField(
        default=dict, blank=True, help_text="Seconds per phase, peak memory, components."
    )
    error = models.TextField(blank=True)
    # The solved assignments while the run writes them (matching/pipeline/plan.py): a run that
    # dies mid-write is finished from here by the next one, so the result equals an
    # uninterrupted run's (REL-3). Ids and scores only; cleared once written.
    plan = models.BinaryField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    def __str__(self):
        return f"Run {self.pk} ({self.get_status_display()})"


class Match(models.Model):
    """One proposed or actual pairing of a case with an attorney."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        OFFERED = "offered", "Offered"
        ACCEPTED = "accepted", "Accepted"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        REJECTED = "rejected", "Rejected by coordinator"
        WITHDRAWN = "withdrawn", "Withdrawn"
        # The attorney handed an accepted case back (issue 13: before its put-back deadline;
        # issue 16: a check-in saying they cannot continue, at any time).
        RETURNED = "returned", "Put back by attorney"
        # After acceptance (issue 16): the case closed with its outcome; the slot is freed.
        COMPLETED = "completed", "Case closed"

    ACTIVE_STATUSES = (Status.PROPOSED, Status.APPROVED, Status.OFFERED, Status.ACCEPTED)
    # A placement: the attorney took the case (and may have finished it since).
    PLACED_STATUSES = (Status.ACCEPTED, Status.COMPLETED)

    class Source(models.TextChoices):
        """Who asked for the pairing: a matching run, a coordinator's swap, or the attorney from
        the opportunity board (shown and filterable in the review queue)."""

        RUN = "run", "Matching run"
        COORDINATOR = "coordinator", "Coordinator"
        ATTORNEY = "attorney", "Requested by attorney"

    class DeclineReason(models.TextChoices):
        NO_CAPACITY = "no_capacity", "No capacity right now"
        LANGUAGE = "language", "Language"
        DISTANCE = "distance", "Distance"
        CONFLICT = "conflict", "Conflict of interest"
        CASE_TYPE = "case_type", "Case type"
        OTHER = "other", "Other"

    # No index of its own: one_match_per_pair's (case, attorney) index serves every lookup by
    # case, and a run inserts ~100,000 matches at once, each paying for every index.
    case = models.ForeignKey(
        "cases.CaseRequest", on_delete=models.CASCADE, related_name="matches", db_index=False
    )
    attorney = models.ForeignKey(
        "volunteers.AttorneyProfile", on_delete=models.CASCADE, related_name="matches"
    )
    run = models.ForeignKey(
        MatchingRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="matches"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    score = models.IntegerField()
    # A run stores it compactly; it reads as the usual dict (matching/breakdown.py).
    breakdown = BreakdownField(default=dict, help_text="Each score component, for the explanation.")
    decline_reason = models.CharField(max_length=12, choices=DeclineReason.choices, blank=True)
    decline_note = models.TextField(blank=True, max_length=1000)
    reject_reason = models.TextField(blank=True, max_length=1000)
    conflict_attested_at = models.DateTimeField(null=True, blank=True)
    # A database default too: the run writes its proposals with COPY, naming its columns.
    source = models.CharField(
        max_length=12, choices=Source.choices, default=Source.RUN, db_default=Source.RUN
    )
    # Until when the attorney may put an accepted case back: set on acceptance to
    # MATCH_PUT_BACK_DAYS later, moved by a coordinator (match_put_back_deadline_set).
    put_back_until = models.DateTimeField(null=True, blank=True)
    put_back_reason = models.TextField(blank=True, max_length=1000, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    status_changed_at = models.DateTimeField(auto_now_add=True)
    offered_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "matches"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(status__in=["proposed", "approved", "offered", "accepted"]),
                name="one_active_match_per_case",
            ),
            # A declined, rejected or expired pair is never proposed again: its row stays and
            # blocks a second one.
            models.UniqueConstraint(fields=["case", "attorney"], name="one_match_per_pair"),
            models.CheckConstraint(condition=Q(score__gt=0), name="match_score_positive"),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""), name="declined_has_reason"
            ),
        ]
        indexes = [
            # Serves the coordinator review queue: proposed matches, newest run first.
            models.Index(fields=["status", "-created_at"], name="match_status_created_idx"),
            # Serves offer expiry: offered matches by expiry time.
            models.Index(
                fields=["expires_at"], name="match_offer_expiry_idx", condition=Q(status="offered")
            ),
            # Serves the review queue's "Put back by attorney" filter (matching.admin): the list
            # walks the cases in urgency order (case_list_order_idx, index only) and probes each
            # case here; returned matches are a few percent, so nearly every probe misses in a
            # small index. Probed through one_match_per_pair, each case with a match read the
            # match for its status: at 1,000,000 cases and 200,000 matches, 3x the time. Runs
            # write proposals, which this leaves out; a hand-back already rewrites the indexes
            # (match_status_created_idx holds the status).
            models.Index(
                fields=["case"], name="match_returned_case_idx", condition=Q(status="returned")
            ),
        ]

    def __str__(self):
        return f"{self.case} ↔ {self.attorney} ({self.get_status_display()})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE_STATUSES


class StatusRequest(models.Model):
    """One status check-in on an accepted case: asked by a coordinator or the monthly sweep, or
    given by the attorney unasked from the case page (then created already answered).

    The e-mailed link carries a random token, never an id: ``token_hash`` (SHA-256 of it) finds
    the row, and the token itself is derived from ``token_nonce`` with the secret key
    (matching.checkins.status_request_token), so the reminder can repeat the same link and the
    database alone never yields a working one. The link opens only for the attorney signed in.
    """

    class Answer(TextChoices):
        HEARING_HELD = "hearing_held", "The hearing was held"
        CONTINUED = "continued", "The hearing was continued to a new date"
        APPLICATION_FILED = "application_filed", "An application or brief was filed"
        CLOSED = "closed", "The case is closed"
        NEED_HELP = "need_help", "I need help with this case"
        CANNOT_CONTINUE = "cannot_continue", "I cannot continue with this case"

    class Trigger(TextChoices):
        COORDINATOR = "coordinator", "Asked by a coordinator"
        MONTHLY = "monthly", "Monthly check-in"
        ATTORNEY = "attorney", "Given by the attorney"

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="status_requests")
    trigger = models.CharField(max_length=12, choices=Trigger.choices)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_nonce = models.CharField(max_length=64, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    notified_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer = models.CharField(max_length=20, choices=Answer.choices, blank=True)
    # Free text from the attorney (may name people): kept here, never in the event log or a mail.
    note = models.TextField(blank=True, max_length=2000)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # One question open per case at a time: asking again while one waits sends nothing.
            models.UniqueConstraint(
                fields=["match"],
                condition=Q(answered_at__isnull=True),
                name="one_open_status_request_per_match",
            ),
            models.UniqueConstraint(fields=["token_hash"], name="status_request_token_unique"),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | ~Q(answer=""),
                name="status_request_answered_has_answer",
            ),
        ]
        indexes = [
            # Serves the reminder sweep and the coordinator home: open requests by age.
            models.Index(
                fields=["notified_at"],
                name="status_request_open_idx",
                condition=Q(answered_at__isnull=True),
            ),
        ]

    def __str__(self):
        return f"Status request {self.pk} ({self.answer or 'unanswered'})"
