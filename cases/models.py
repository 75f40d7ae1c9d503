import secrets

import pycountry
from django.conf import settings
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce, Greatest

from cases.crypto import EncryptedTextField, is_unreadable

# Crockford's base32 without I, L, O, U: references are read aloud on the phone.
_REFERENCE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_case_reference() -> str:
    """A random public id such as PBM-7K3QX9TD: it says nothing about the person or the order."""
    return "PBM-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166-1 alpha-2 countries, by name. A callable, so migrations do not copy the list."""
    return sorted(((c.alpha_2, c.name) for c in pycountry.countries), key=lambda pair: pair[1])


class Language(models.Model):
    """An ISO 639-3 language. `common_rank` puts the languages heard most in court first."""

    code = models.CharField(max_length=3, primary_key=True, help_text="ISO 639-3 code")
    name = models.CharField(max_length=120)
    common_rank = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Position at the top of pick lists; empty for the rest."
    )

    class Meta:
        ordering = [models.F("common_rank").asc(nulls_last=True), "name"]

    def __str__(self):
        return f"{self.name} ({self.code})"


class CaseType(models.Model):
    code = models.SlugField(max_length=40, primary_key=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True)
    detained_only = models.BooleanField(default=False, help_text="e.g. bond hearings")
    remote_capable = models.BooleanField(
        default=False, help_text="Handled without appearing in court (appeals, document help)."
    )
    needs_state_admission = models.BooleanField(
        default=False, help_text="Has a state-court step (SIJS predicate order)."
    )
    sort_order = models.PositiveSmallIntegerField(default=100)

    class Meta:
        ordering = ["sort_order", "name"]

    def __str__(self):
        return self.name


class ImmigrationCourt(models.Model):
    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    city = models.CharField(max_length=80)
    state = models.CharField(max_length=2)
    zip_code = models.CharField(max_length=5)
    latitude = models.DecimalField(max_digits=8, decimal_places=5)
    longitude = models.DecimalField(max_digits=8, decimal_places=5)
    detained_only = models.BooleanField(default=False, help_text="Hears only detained dockets.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["state", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180
                ),
                name="court_coordinates_in_range",
            ),
        ]

    def __str__(self):
        return f"{self.name}, {self.state}"


class CaseRequest(models.Model):
    """One unrepresented person's request for a lawyer.

    The respondent's identifying data (name, A-number) lives in encrypted columns added by the case
    requests issue; nothing here identifies the person, so offers can show these fields.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        # A partner's request whose A-number is another organization's case: held out of
        # matching until a coordinator decides (cases.services.case_request_review_resolve).
        REVIEW = "review", "Needs review"
        MATCHED = "matched", "Matched"
        REPRESENTED = "represented", "Represented"
        CLOSED = "closed", "Closed"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Outcome(models.TextChoices):
        """How a represented case ended (issue 16); recorded with the date it ended."""

        RELIEF_GRANTED = "relief_granted", "Relief granted"
        TERMINATION = "termination", "Proceedings terminated"
        VOLUNTARY_DEPARTURE = "voluntary_departure", "Voluntary departure"
        REMOVAL_ORDERED = "removal_ordered", "Removal ordered"
        ADMIN_CLOSED = "admin_closed", "Administratively closed"
        TRANSFERRED = "transferred", "Transferred"
        WITHDRAWN = "withdrawn", "Withdrawn"

    class Relief(models.TextChoices):
        """The relief granted, when the outcome is RELIEF_GRANTED."""

        ASYLUM = "asylum", "Asylum"
        WITHHOLDING = "withholding", "Withholding of removal"
        CAT = "cat", "Convention Against Torture protection"
        CANCELLATION = "cancellation", "Cancellation of removal"
        ADJUSTMENT = "adjustment", "Adjustment of status"
        SIJS = "sijs", "Special Immigrant Juvenile Status"
        T_U_VISA = "t_u_visa", "T or U visa"
        OTHER = "other", "Other relief"

    class Source(models.TextChoices):
        COORDINATOR = "coordinator", "Coordinator"
        PARTNER = "partner", "Partner intake"
        IMPORT = "import", "Bulk import"

    class HearingType(models.TextChoices):
        MASTER = "master", "Master calendar"
        INDIVIDUAL = "individual", "Individual (merits)"
        BOND = "bond", "Bond"
        OTHER = "other", "Other"

    # Identifying data: encrypted at rest, shown only with cases.view_identifiers (SEC-22).
    respondent_name = EncryptedTextField(blank=True)
    a_number = EncryptedTextField(
        blank=True, verbose_name="A-number", help_text="Stored in canonical 9-digit form."
    )
    # Keyed HMAC of the canonical A-number: duplicate detection and exact search without
    # decrypting. NULL when the A-number is unknown (NULLs never collide).
    a_number_hash = models.CharField(  # noqa: DJ001 (NULL, not "", is what may repeat)
        max_length=64, null=True, blank=True, editable=False
    )
    contact_route = EncryptedTextField(
        blank=True, help_text="How to reach the person (through whom, which phone or facility)."
    )

    reference = models.CharField(max_length=16, default=new_case_reference, editable=False)
    # Set with status REVIEW: the case whose A-number this request repeats (its own
    # a_number_hash stays NULL meanwhile, so the unique constraint holds).
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # read one case at a time, never searched by it
        editable=False,
        help_text="A case with the same A-number, at another organization.",
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    language = models.ForeignKey(
        Language, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    relay_interpreter_ok = models.BooleanField(
        default=False, help_text="A relay interpreter (e.g. Mam → Spanish) is acceptable."
    )
    relay_language = models.ForeignKey(
        Language,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        help_text="The language a relay interpreter would bridge to.",
    )
    other_languages = models.ManyToManyField(
        Language, blank=True, related_name="+", help_text="Other languages the person speaks."
    )
    country_of_nationality = models.CharField(
        max_length=2, blank=True, choices=country_choices, help_text="ISO 3166-1 alpha-2"
    )
    # Indexed by case_court_order_idx (Meta), which serves lookups by court too.
    court = models.ForeignKey(
        ImmigrationCourt, on_delete=models.PROTECT, related_name="case_requests", db_index=False
    )
    case_type = models.ForeignKey(
        CaseType, on_delete=models.PROTECT, related_name="case_requests", db_index=False
    )
    detained = models.BooleanField(default=False)
    remote_ok = models.BooleanField(
        default=False, help_text="Can be handled remotely (video hearing, BIA appeal, documents)."
    )
    detention_facility = models.CharField(max_length=200, blank=True)
    next_hearing_date = models.DateField(null=True, blank=True)
    next_hearing_type = models.CharField(max_length=12, blank=True, choices=HearingType.choices)
    filing_deadline = models.DateField(
        null=True, blank=True, help_text="e.g. the one-year asylum deadline or a BIA brief due date"
    )
    summary = models.TextField(blank=True, help_text="Non-identifying summary shown in offers.")
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.COORDINATOR)
    organization = models.ForeignKey(
        "volunteers.Organization",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="case_requests",
        help_text="The organization that referred the case.",
    )
    priority = models.IntegerField(
        default=0, help_text="Urgency used by matching; recomputed daily."
    )
    priority_parts = models.JSONField(
        default=dict, blank=True, help_text="The parts of the priority (cases/priority.py)."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # How the case ended (matching.services.match_case_close); counts of these are public.
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    relief_type = models.CharField(max_length=12, choices=Relief.choices, blank=True)
    outcome_date = models.DateField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Set when the retention purge anonymised this closed case (SEC-25, case_requests_purge).
    purged_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The partner intake form's one-time token (core.forms): the same POST sent twice records
    # one request. NULL for every other source (admin, import) and for older requests.
    submission_token = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-priority", "created_at"]
        # No index may contain ``status`` (nor use it in a condition): a matching run claims
        # tens of thousands of cases at once by moving them from open to matched, and an update
        # that changes no indexed column is a HOT update (the new row version stays on its page
        # and no index is touched; the table keeps 20% free room per page for it, migrations
        # 0006 and 0015: a run claims up to ~13 cases of one page). With status in an index, each
        # claim rewrote every index of the table: 5x slower at 1,000,000 cases. The matching
        # load reads all open cases sequentially anyway.
        indexes = [
            # Serves the admin changelist's default order (-priority, created_at, then -pk, which
            # the admin adds for a total order): a page is an index range, not a sort of all rows.
            models.Index(fields=["-priority", "created_at", "-id"], name="case_list_order_idx"),
            # Plain b-trees for the keys Django would otherwise index twice on PostgreSQL (a
            # second varchar_pattern_ops copy for LIKE, which nothing here runs): fewer indexes
            # to write on every insert and every non-HOT update.
            # Language first, then the changelist's order: serves lookups by language and the
            # opportunity board's language filter as an index range in urgency order
            # (matching.board.board_queryset); a bitmap over a 4% language read 16,000 pages.
            models.Index(
                fields=["language", "-priority", "created_at", "-id"],
                name="case_language_order_idx",
            ),
            # Case type first, then the changelist's order: the admin's case type filter as an
            # index range in its order (cases.admin). Walking case_list_order_idx instead read
            # 38,000 cases for the first 50 T visa cases at 1,000,000 (a small type among the least
            # urgent: 230 ms). Serves lookups by case type too, as the plain index it replaces did.
            models.Index(
                fields=["case_type", "-priority", "created_at", "-id"],
                name="case_type_order_idx",
            ),
            # The changelist's court filter, likewise: a court whose cases are among the least
            # urgent had its first 50 after 24,000 others (300 ms). Replaces the foreign key's
            # own index (court_id alone).
            models.Index(
                fields=["court", "-priority", "created_at", "-id"],
                name="case_court_order_idx",
            ),
            # The changelist's outcome filter, likewise, over the cases with an outcome only (the
            # closed ones, about 1%). Outcome is written only when a case closes, an update that
            # already changes an indexed column (closed_at): claims stay HOT.
            models.Index(
                fields=["outcome", "-priority", "created_at", "-id"],
                name="case_outcome_order_idx",
                condition=~Q(outcome=""),
            ),
            models.Index(
                fields=["relay_language"],
                name="case_relay_language_idx",
                condition=Q(relay_language__isnull=False),
            ),
            # Serve the attorney's opportunity board (matching.board.board_queryset, the
            # "hearing within N days", "detained" and "remote" filters): without them a filter
            # that keeps 1% of the rows walks case_list_order_idx through most of the table.
            # A hearing window is a range of this index, then a small sort.
            models.Index(
                fields=["next_hearing_date"],
                name="case_hearing_date_idx",
                condition=Q(next_hearing_date__isnull=False),
            ),
            # The board's order (as case_list_order_idx) within detained or not detained cases:
            # detention dominates priority, so "not detained" in the plain order would first
            # skip every detained case. And over remote-capable cases only.
            models.Index(
                fields=["detained", "-priority", "created_at", "-id"],
                name="case_board_detained_idx",
            ),
            models.Index(
                fields=["detained", "-priority", "created_at", "-id"],
                name="case_board_remote_idx",
                condition=Q(remote_ok=True),
            ),
            # Serve the small matching run (matching/pipeline/load/small.py): the best open cases
            # of one place (language, case type, detained, court, remote, relay) in the solver's
            # order, a few index pages per place instead of reading the backlog. Partial on
            # closed_at, not status (claims stay HOT, see above): closed cases, most of the table
            # in time, are left out; the matched ones a scan meets are filtered by status.
            models.Index(
                F("language"),
                F("case_type"),
                F("detained"),
                F("court"),
                F("remote_ok"),
                Coalesce(
                    Case(When(relay_interpreter_ok=True, then=F("relay_language"))), Value("")
                ),
                Greatest(F("priority"), Value(0)).desc(),
                F("id"),
                name="case_cell_priority_idx",
                condition=Q(closed_at__isnull=True),
            ),
            # Serves case_request_repeat_check (a request typed again after Back): the rows typed
            # into a form in the last minutes are a short range at the end of this small index.
            # Imports, most of the table, are left out. Without it the check read all of a
            # partner's or a coordinator's cases (1,000,000 cases, a partner with 30,000: 23,000
            # pages, 100-190 ms; with it 2 pages, under 0.1 ms).
            models.Index(
                fields=["created_at"],
                name="case_typed_recent_idx",
                condition=Q(source__in=["partner", "coordinator"]),
            ),
            # The (relay, main language) pairs in use, one index probe each (the same run).
            models.Index(
                fields=["relay_language", "language"],
                name="case_relay_pair_idx",
                condition=Q(relay_interpreter_ok=True, closed_at__isnull=True),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(relay_interpreter_ok=False) | Q(relay_language__isnull=False),
                name="case_relay_needs_language",
            ),
            # An open case was never closed: the small matching run finds open cases through
            # case_cell_priority_idx, which leaves out every case with a closed_at.
            models.CheckConstraint(
                condition=~Q(status="open") | Q(closed_at__isnull=True),
                name="case_open_not_closed",
            ),
            # A relief type exactly when relief was granted; an outcome always has its date.
            models.CheckConstraint(
                condition=(Q(outcome="relief_granted") & ~Q(relief_type=""))
                | (~Q(outcome="relief_granted") & Q(relief_type="")),
                name="case_relief_type_with_relief",
            ),
            models.CheckConstraint(
                condition=(Q(outcome="") & Q(outcome_date__isnull=True))
                | (~Q(outcome="") & Q(outcome_date__isnull=False)),
                name="case_outcome_has_date",
            ),
            # Unique constraints rather than unique=True: the same guarantee without the LIKE
            # index copy (references and hashes are only ever looked up exactly).
            models.UniqueConstraint(fields=["reference"], name="case_reference_unique"),
            models.UniqueConstraint(fields=["a_number_hash"], name="case_a_number_hash_unique"),
            # The duplicate check of case_request_submit_by_partner, and its lookup of the
            # request already recorded. Partial: only partner requests have a token, so the
            # index stays small and a claim (an update of other columns) never writes to it.
            models.UniqueConstraint(
                fields=["submission_token"],
                name="case_submission_token_unique",
                condition=Q(submission_token__isnull=False),
            ),
        ]
        permissions = [
            ("view_identifiers", "Can see respondent names, A-numbers and contact routes"),
        ]

    def __str__(self):
        return self.reference

    def get_partner_status_display(self) -> str:
        """The status a partner sees. A request held for review looks like any fresh request:
        that it repeats another organization's case is not theirs to know (issue 11 #5)."""
        if self.status == self.Status.REVIEW:
            return self.Status.OPEN.label
        return self.get_status_display()

    @property
    def identifiers_unreadable(self) -> bool:
        """True when a stored identifier failed its integrity check (tampering or wrong key)."""
        return any(
            is_unreadable(getattr(self, name))
            for name in ("respondent_name", "a_number", "contact_route")
            if name not in self.get_deferred_fields()
        )


class PartnerMembership(models.Model):
    """Ties a partner organization's staff member to it: they see only its case requests."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="partner_membership"
    )
    organization = models.ForeignKey(
        "volunteers.Organization", on_delete=models.CASCADE, related_name="partner_memberships"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"{self.user} at {self.organization}"


class CaseImport(models.Model):
    """One uploaded case file on its way in (cases/importing.py): checked in the background, shown
    as a preview, confirmed, then imported in the background in batches.

    The row is the source of truth: a task lost by the broker is re-enqueued by the sweeper from
    it, and ``rows_done`` (written in the same transaction as each batch) says where a redelivered
    import goes on. The upload waits here encrypted with the field key (it holds names and
    A-numbers) and is emptied once imported or failed; an unconfirmed one is deleted after
    IMPORT_PREVIEW_TTL_HOURS. ``preview`` holds masked cells only, never an identifier.
    """

    class Status(models.TextChoices):
        CHECKING = "checking", "Checking"  # waiting for, or in, the check (a dry run)
        CHECKED = "checked", "Checked"  # preview ready: waits for the user's confirmation
        IMPORTING = "importing", "Importing"  # confirmed: waiting for, or in, the import
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        XLSX = "xlsx", "XLSX"

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped by every batch: the sweeper re-enqueues a job whose progress stopped.
    updated_at = models.DateTimeField(auto_now=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.CHECKING)
    file_format = models.CharField(max_length=4, choices=Format.choices)
    content = models.BinaryField(default=bytes, editable=False)
    rows_total = models.PositiveIntegerField(default=0)
    rows_checked = models.PositiveIntegerField(default=0)
    rows_invalid = models.PositiveIntegerField(default=0)
    skip_invalid_rows = models.BooleanField(default=False)
    rows_done = models.PositiveIntegerField(default=0)
    rows_imported = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)
    preview = models.JSONField(default=dict, blank=True)
    failure = models.TextField(blank=True)

    class Meta:
        indexes = [
            # Serves the sweeper: jobs by status, oldest progress first.
            models.Index(fields=["status", "updated_at"], name="case_import_sweep_idx"),
        ]

    def __str__(self):
        return f"Import {self.pk} ({self.status})"

    @property
    def rows_valid(self) -> int:
        return self.rows_total - self.rows_invalid

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)
