from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Lower

from volunteers.timezones import US_TIME_ZONES

zip_validator = RegexValidator(r"^\d{5}$", "Enter a five-digit ZIP code.")

US_JURISDICTIONS = [
    (code, code)
    for code in (
        "AK AL AR AZ CA CO CT DC DE FL GA GU HI IA ID IL IN KS KY LA MA MD ME MI MN MO MP MS MT NC "
        "ND NE NH NJ NM NV NY OH OK OR PA PR RI SC SD TN TX UT VA VI VT WA WI WV WY"
    ).split()
]


class Organization(models.Model):
    class Kind(models.TextChoices):
        LAW_FIRM = "law_firm", "Law firm"
        NONPROFIT = "nonprofit", "Nonprofit legal services"
        ADVOCACY = "advocacy", "Advocacy organization"
        BAR_ASSOCIATION = "bar_association", "Bar association"
        LAW_SCHOOL = "law_school", "Law school"
        CORPORATE = "corporate", "Corporate legal department"
        OTHER = "other", "Other"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    city = models.CharField(max_length=80, blank=True)
    state = models.CharField(max_length=2, blank=True, choices=US_JURISDICTIONS)
    website = models.URLField(blank=True)
    confirmed = models.BooleanField(
        default=False, help_text="Confirmed by a coordinator (attorneys can name new ones)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(Lower("name"), name="organization_name_ci_unique"),
        ]

    def __str__(self):
        return self.name


class WorkMode(models.TextChoices):
    """Where an attorney wants to work. Stored as AttorneyProfile's two flags (remote_ok, read by
    every matching loader since the start, and remote_preferred): see AttorneyProfile.work_mode.
    """

    IN_PERSON = "in_person", "In person near me only"
    REMOTE_WELCOME = "remote_welcome", "In person near me, and remote work is welcome"
    REMOTE_PREFERRED = "remote_preferred", "Remote work preferred"

    @property
    def flags(self) -> tuple[bool, bool]:
        """(remote_ok, remote_preferred) for this mode."""
        return self != WorkMode.IN_PERSON, self == WorkMode.REMOTE_PREFERRED


class AttorneyProfile(models.Model):
    """The supply side: one per attorney user.

    `active_cases` counts the attorney's active matches (proposed, approved, offered, accepted). It
    is changed only by the matching services, under a row lock, and the database refuses a value
    above `capacity`, so two concurrent runs can never over-book an attorney (REL-4).
    """

    class Verification(models.TextChoices):
        PENDING = "pending", "Pending"
        VERIFIED = "verified", "Verified"
        REJECTED = "rejected", "Rejected"

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attorney"
    )
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.SET_NULL, related_name="attorneys"
    )
    # An existing organization the attorney asked to join (picked or typed by name): the
    # affiliation is set only once that organization's manager or a coordinator approves, so a
    # name never buys membership of someone else's firm (issue 11 #8).
    organization_requested = models.ForeignKey(
        Organization,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="affiliation_requests",
        editable=False,
    )
    phone = models.CharField(max_length=32, blank=True)
    eoir_id = models.CharField("EOIR ID", max_length=16, blank=True)
    verification = models.CharField(
        max_length=10, choices=Verification.choices, default=Verification.PENDING
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    home_zip = models.CharField(max_length=5, validators=[zip_validator])
    latitude = models.DecimalField(max_digits=8, decimal_places=5)
    longitude = models.DecimalField(max_digits=8, decimal_places=5)
    travel_radius_miles = models.PositiveSmallIntegerField(
        default=50, validators=[MaxValueValidator(3000)]
    )
    remote_ok = models.BooleanField("Willing to work remotely", default=False)
    years_experience = models.PositiveSmallIntegerField(
        default=0, validators=[MaxValueValidator(70)]
    )
    capacity = models.PositiveSmallIntegerField(
        default=1,
        validators=[MaxValueValidator(50)],
        help_text="Cases the attorney can carry at once.",
    )
    active_cases = models.PositiveSmallIntegerField(default=0, editable=False)
    paused_until = models.DateField(
        null=True, blank=True, help_text="Not offered cases before this date."
    )
    time_zone = models.CharField(
        max_length=40,
        blank=True,
        choices=US_TIME_ZONES,
        help_text="Empty: the home ZIP code's time zone.",
    )
    # Preferences the matcher honours (issue 13). The work mode is remote_ok plus
    # remote_preferred (a constraint keeps "preferred" within "welcome"); db_default lets bulk
    # loaders (seed_scale's COPY) leave these columns out.
    remote_preferred = models.BooleanField(default=False, db_default=False)
    detained_ok = models.BooleanField("Takes detained cases", default=True, db_default=True)
    monthly_offer_cap = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(200)],
        help_text="Most new offers in a calendar month (empty: no limit beyond capacity).",
    )
    preferred_types = models.ManyToManyField("cases.CaseType", related_name="+", blank=True)
    excluded_types = models.ManyToManyField("cases.CaseType", related_name="+", blank=True)
    # The weekly digest of new needs (volunteers.digest): on unless the attorney switches it off.
    digest_enabled = models.BooleanField(
        "Weekly e-mail of new cases", default=True, db_default=True
    )
    last_digest_at = models.DateTimeField(null=True, blank=True, editable=False)
    languages = models.ManyToManyField(
        "cases.Language", through="AttorneyLanguage", related_name="+"
    )
    practice_areas = models.ManyToManyField(
        "cases.CaseType", through="PracticeArea", related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(active_cases__lte=F("capacity")), name="attorney_within_capacity"
            ),
            models.CheckConstraint(condition=Q(capacity__lte=50), name="attorney_capacity_sane"),
            models.CheckConstraint(
                condition=Q(remote_ok=True) | Q(remote_preferred=False),
                name="attorney_remote_preferred_is_remote",
            ),
            models.CheckConstraint(
                condition=Q(
                    latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180
                ),
                name="attorney_coordinates_in_range",
            ),
        ]
        indexes = [
            # Serves the matching load: verified attorneys (free capacity is filtered on the
            # rows). No index may name active_cases or capacity, in its columns or its
            # condition: a matching run raises the counter of ~45,000 attorneys at once (one
            # per 2 proposals), and an update that changes no indexed column is heap-only (the
            # table keeps half of each page free for it, migration 0009); with active_cases in
            # this condition, each raise wrote a new entry in every index of the table.
            models.Index(
                fields=["paused_until"],
                name="attorney_available_idx",
                condition=Q(verification="verified"),
            ),
        ]

    def __str__(self):
        return self.user.get_full_name() or self.user.get_username()

    @property
    def free_capacity(self) -> int:
        return max(self.capacity - self.active_cases, 0)

    @property
    def work_mode(self) -> WorkMode:
        if not self.remote_ok:
            return WorkMode.IN_PERSON
        return WorkMode.REMOTE_PREFERRED if self.remote_preferred else WorkMode.REMOTE_WELCOME


class BarAdmission(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "Active, in good standing"
        INACTIVE = "inactive", "Inactive"
        SUSPENDED = "suspended", "Suspended"

    attorney = models.ForeignKey(
        AttorneyProfile, on_delete=models.CASCADE, related_name="bar_admissions"
    )
    jurisdiction = models.CharField(max_length=2, choices=US_JURISDICTIONS)
    bar_number = models.CharField(max_length=32)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    verified_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["jurisdiction"]
        constraints = [
            models.UniqueConstraint(
                fields=["attorney", "jurisdiction"], name="one_admission_per_jurisdiction"
            ),
        ]

    def __str__(self):
        return f"{self.jurisdiction} {self.bar_number}"


class AttorneyLanguage(models.Model):
    class Proficiency(models.IntegerChoices):
        # Ordered: matching scores a higher value higher.
        CONVERSATIONAL = 1, "Conversational"
        PROFESSIONAL = 2, "Professional working"
        FLUENT = 3, "Fluent"
        NATIVE = 4, "Native"

    attorney = models.ForeignKey(
        AttorneyProfile, on_delete=models.CASCADE, related_name="language_skills"
    )
    language = models.ForeignKey("cases.Language", on_delete=models.PROTECT, related_name="+")
    proficiency = models.PositiveSmallIntegerField(choices=Proficiency.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["attorney", "language"], name="one_proficiency_per_language"
            ),
            models.CheckConstraint(
                condition=Q(proficiency__gte=1, proficiency__lte=4), name="proficiency_known"
            ),
        ]

    def __str__(self):
        return f"{self.language_id}: {self.get_proficiency_display()}"


class PracticeArea(models.Model):
    """A case type the attorney takes, with their experience in it."""

    attorney = models.ForeignKey(
        AttorneyProfile, on_delete=models.CASCADE, related_name="practice_area_links"
    )
    case_type = models.ForeignKey("cases.CaseType", on_delete=models.PROTECT, related_name="+")
    cases_handled = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(5000)],
        help_text="Roughly how many such cases so far.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["attorney", "case_type"], name="one_practice_area_per_type"
            ),
        ]

    def __str__(self):
        return str(self.case_type_id)


class CaseHours(models.Model):
    """Pro bono hours an attorney logs on a case they accepted; counts toward pledges."""

    match = models.ForeignKey("matching.Match", on_delete=models.CASCADE, related_name="hours")
    hours = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.1")), MaxValueValidator(24)],
    )
    worked_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)
    # The hours form's one-time token (core.forms): the same POST sent twice logs once.
    # NULL for entries logged before it existed.
    submission_token = models.UUIDField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-worked_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gt=0, hours__lte=24), name="case_hours_in_a_day"
            ),
            # The duplicate check of case_hours_log, and its lookup of the earlier entry.
            models.UniqueConstraint(
                fields=["submission_token"], name="case_hours_submission_token_unique"
            ),
        ]

    def __str__(self):
        return f"{self.hours} h on {self.worked_on}"


class CalendarFeed(models.Model):
    """An attorney's secret hearing-calendar URL (volunteers.calendar). Only the SHA-256 of the
    token in the URL is kept, like a password: a database reader cannot subscribe to anyone's
    calendar. A new link replaces the row, so the old URL stops working at once."""

    attorney = models.OneToOneField(
        AttorneyProfile, on_delete=models.CASCADE, related_name="calendar_feed"
    )
    token_hash = models.CharField(max_length=64, unique=True)  # serves the feed's lookup
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return f"Calendar feed of {self.attorney}"
