"""Every write to an attorney's profile, verification and account (STYLE 2, 3).

Each service validates, writes inside one transaction, records a domain event (ids and codes
only, never personal data) and raises AttorneyError with a stable code that forms and tests use.
"""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import UUID

from allauth.account.models import EmailAddress
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Manager, Sum
from django.utils import timezone

from cases.models import CaseType
from cases.reference import court_coordinates
from core.errors import DomainError
from core.services import event_record
from core.types import Actor
from matching.models import Match
from volunteers.calendar import calendar_token_hash
from volunteers.models import (
    AttorneyLanguage,
    AttorneyProfile,
    BarAdmission,
    CalendarFeed,
    CaseHours,
    Organization,
    PracticeArea,
    WorkMode,
)
from volunteers.timezones import US_TIME_ZONES, attorney_localdate


class AttorneyError(DomainError):
    code = "attorney_error"


@dataclass(frozen=True)
class Admission:
    jurisdiction: str
    bar_number: str
    status: str


def zip_locate(zip_code: str) -> tuple[Decimal, Decimal]:
    """The ZIP's centroid, or AttorneyError("unknown_zip") for a ZIP the list does not hold."""
    try:
        return court_coordinates(zip_code)
    except (LookupError, ValueError):
        raise AttorneyError(
            "This ZIP code is not a known US ZIP code.", code="unknown_zip"
        ) from None


def _locked(attorney: AttorneyProfile) -> AttorneyProfile:
    return AttorneyProfile.objects.select_for_update().get(pk=attorney.pk)


@transaction.atomic
def attorney_profile_update(
    *,
    user: User,
    first_name: str,
    last_name: str,
    phone: str,
    home_zip: str,
    travel_radius_miles: int,
    time_zone: str = "",
) -> AttorneyProfile:
    """Step one of the profile: creates the (pending) profile on first save."""
    latitude, longitude = zip_locate(home_zip)
    if time_zone and time_zone not in dict(US_TIME_ZONES):
        raise AttorneyError("Choose a time zone from the list.", code="unknown_time_zone")
    user.first_name, user.last_name = first_name.strip(), last_name.strip()
    user.save(update_fields=["first_name", "last_name"])
    fields = {
        "phone": phone.strip(),
        "home_zip": home_zip,
        "latitude": latitude,
        "longitude": longitude,
        "travel_radius_miles": travel_radius_miles,
        "time_zone": time_zone,
    }
    attorney, created = AttorneyProfile.objects.select_for_update().get_or_create(
        user=user, defaults=fields
    )
    if not created:
        for name, value in fields.items():
            setattr(attorney, name, value)
        attorney.save(update_fields=[*fields, "updated_at"])
    event_record(
        verb="attorney.created" if created else "attorney.profile_updated",
        actor=user,
        target=attorney,
        data={"step": "about"},
    )
    return attorney


def organization_find_or_name(*, name: str, actor: Actor) -> tuple[Organization, bool]:
    """An existing organization by name (any case, any spacing), or a new unconfirmed one to
    review; returns (organization, created)."""
    name = " ".join(name.split())
    existing = Organization.objects.filter(name__iexact=name).first()
    if existing is not None:
        return existing, False
    organization = Organization.objects.create(
        name=name, kind=Organization.Kind.OTHER, confirmed=False
    )
    event_record(verb="organization.named", actor=actor, target=organization)
    return organization, True


@transaction.atomic
def attorney_organization_set(
    *, attorney: AttorneyProfile, organization: Organization | None, new_name: str, eoir_id: str
) -> AttorneyProfile:
    """The attorney's organization step.

    Naming a new organization (or none) takes effect at once. Joining one that exists, picked
    or typed by name, is a request: the affiliation waits in `organization_requested` until the
    organization's manager or a coordinator approves it (issue 11 #8). Until then the attorney
    keeps their previous affiliation, and nothing they do counts toward that organization.
    """
    created = False
    if new_name.strip():
        organization, created = organization_find_or_name(name=new_name, actor=attorney.user)
    attorney = _locked(attorney)
    joins_existing = organization is not None and not created
    if organization is not None and joins_existing and organization.pk != attorney.organization_id:
        attorney.organization_requested = organization
        event_record(
            verb="attorney.affiliation_requested",
            actor=attorney.user,
            target=attorney,
            data={"organization_id": organization.pk},
        )
    else:
        attorney.organization, attorney.organization_requested = organization, None
    attorney.eoir_id = eoir_id.strip()
    attorney.save(update_fields=["organization", "organization_requested", "eoir_id", "updated_at"])
    event_record(
        verb="attorney.profile_updated",
        actor=attorney.user,
        target=attorney,
        data={"step": "organization", "organization_id": attorney.organization_id},
    )
    return attorney


@transaction.atomic
def attorney_bar_admissions_set(
    *, attorney: AttorneyProfile, admissions: Iterable[Admission]
) -> AttorneyProfile:
    """Replace the bar admissions. At least one must be active; one per jurisdiction.

    A verified attorney whose admissions change goes back to pending: the coordinator verified
    exactly the admissions on file.
    """
    admissions = list(admissions)
    jurisdictions = [a.jurisdiction for a in admissions]
    if len(set(jurisdictions)) != len(jurisdictions):
        raise AttorneyError("List each jurisdiction once.", code="duplicate_jurisdiction")
    if not any(a.status == BarAdmission.Status.ACTIVE for a in admissions):
        raise AttorneyError(
            "At least one bar admission must be active and in good standing.",
            code="no_active_admission",
        )
    attorney = _locked(attorney)
    before = set(attorney.bar_admissions.values_list("jurisdiction", "bar_number", "status"))
    after = {(a.jurisdiction, a.bar_number.strip(), a.status) for a in admissions}
    if before != after:
        attorney.bar_admissions.all().delete()
        BarAdmission.objects.bulk_create(
            BarAdmission(attorney=attorney, jurisdiction=j, bar_number=number, status=status)
            for j, number, status in sorted(after)
        )
        if attorney.verification == AttorneyProfile.Verification.VERIFIED:
            attorney.verification = AttorneyProfile.Verification.PENDING
            attorney.verified_at = None
        attorney.save(update_fields=["verification", "verified_at", "updated_at"])
    event_record(
        verb="attorney.profile_updated",
        actor=attorney.user,
        target=attorney,
        data={"step": "bar", "admissions": len(after), "changed": before != after},
    )
    return attorney


@transaction.atomic
def attorney_languages_set(
    *, attorney: AttorneyProfile, skills: Iterable[tuple[str, int]]
) -> AttorneyProfile:
    skills = list(skills)
    codes = _distinct_codes(
        skills,
        none=("Add at least one language.", "no_language"),
        repeated=("List each language once.", "duplicate_language"),
    )
    attorney = _locked(attorney)
    attorney.language_skills.all().delete()
    AttorneyLanguage.objects.bulk_create(
        AttorneyLanguage(attorney=attorney, language_id=code, proficiency=level)
        for code, level in skills
    )
    attorney.save(update_fields=["updated_at"])
    event_record(
        verb="attorney.profile_updated",
        actor=attorney.user,
        target=attorney,
        data={"step": "languages", "languages": sorted(codes)},
    )
    _matching_run_request(attorney, trigger="languages")
    return attorney


@transaction.atomic
def attorney_practice_areas_set(
    *, attorney: AttorneyProfile, areas: Iterable[tuple[str, int]], years_experience: int
) -> AttorneyProfile:
    areas = list(areas)
    codes = _distinct_codes(
        areas,
        none=("Choose at least one kind of case.", "no_practice_area"),
        repeated=("List each kind of case once.", "duplicate_practice_area"),
    )
    attorney = _locked(attorney)
    attorney.practice_area_links.all().delete()
    PracticeArea.objects.bulk_create(
        PracticeArea(attorney=attorney, case_type_id=code, cases_handled=handled)
        for code, handled in areas
    )
    attorney.years_experience = years_experience
    attorney.save(update_fields=["years_experience", "updated_at"])
    event_record(
        verb="attorney.profile_updated",
        actor=attorney.user,
        target=attorney,
        data={"step": "practice", "case_types": sorted(codes)},
    )
    _matching_run_request(attorney, trigger="practice_areas")
    return attorney


def _distinct_codes(
    pairs: list[tuple[str, int]], *, none: tuple[str, str], repeated: tuple[str, str]
) -> list[str]:
    """The codes of (code, value) pairs; refused, with (message, code), if none or repeated."""
    codes = [code for code, _ in pairs]
    if not codes:
        raise AttorneyError(none[0], code=none[1])
    if len(set(codes)) != len(codes):
        raise AttorneyError(repeated[0], code=repeated[1])
    return codes


@transaction.atomic
def attorney_availability_set(
    *, attorney: AttorneyProfile, capacity: int, paused_until: date | None
) -> AttorneyProfile:
    if not 1 <= capacity <= 50:
        raise AttorneyError("Capacity must be between 1 and 50 cases.", code="capacity_range")
    if paused_until is not None and paused_until < attorney_localdate(attorney):
        raise AttorneyError("The pause date is in the past.", code="pause_in_past")
    # Under the row lock: the matching services change active_cases under the same lock.
    attorney = _locked(attorney)
    if capacity < attorney.active_cases:
        raise AttorneyError(
            f"You already carry {attorney.active_cases} cases; capacity cannot be lower.",
            code="capacity_below_active",
        )
    more_free = capacity > attorney.capacity or _unpaused(attorney.paused_until, paused_until)
    attorney.capacity, attorney.paused_until = capacity, paused_until
    attorney.save(update_fields=["capacity", "paused_until", "updated_at"])
    event_record(
        verb="attorney.profile_updated",
        actor=attorney.user,
        target=attorney,
        data={"step": "capacity", "capacity": capacity, "paused": paused_until is not None},
    )
    if more_free:
        _matching_run_request(attorney, trigger="capacity")
    return attorney


@transaction.atomic
def attorney_preferences_set(
    *,
    attorney: AttorneyProfile,
    work_mode: str,
    preferred_types: Iterable[str],
    excluded_types: Iterable[str],
    detained_ok: bool,
    monthly_offer_cap: int | None,
    digest_enabled: bool,
) -> AttorneyProfile:
    """The preferences matching honours (issue 13). A type cannot be both preferred and
    excluded; widening what the attorney takes asks for a matching run, as more capacity does."""
    if work_mode not in WorkMode.values:
        raise AttorneyError("Choose where you want to work.", code="unknown_work_mode")
    preferred, excluded = set(preferred_types), set(excluded_types)
    if preferred & excluded:
        raise AttorneyError("A case type cannot be both preferred and excluded.", code="both")
    if monthly_offer_cap is not None and not 1 <= monthly_offer_cap <= 200:
        raise AttorneyError("The monthly limit must be between 1 and 200.", code="cap_range")
    attorney = _locked(attorney)
    before = (attorney.remote_ok, attorney.detained_ok, set(_codes(attorney.excluded_types)))
    attorney.remote_ok, attorney.remote_preferred = WorkMode(work_mode).flags
    attorney.detained_ok, attorney.monthly_offer_cap = detained_ok, monthly_offer_cap
    attorney.digest_enabled = digest_enabled
    attorney.save(
        update_fields=[
            "remote_ok", "remote_preferred", "detained_ok", "monthly_offer_cap",
            "digest_enabled", "updated_at",
        ]
    )  # fmt: skip
    # CaseType's primary key is its code: django-stubs allow only int keys in set().
    attorney.preferred_types.set(sorted(preferred))  # type: ignore[arg-type]
    attorney.excluded_types.set(sorted(excluded))  # type: ignore[arg-type]
    event_record(
        verb="attorney.profile_updated",
        actor=attorney.user,
        target=attorney,
        data={
            "step": "preferences", "work_mode": work_mode, "detained_ok": detained_ok,
            "preferred": sorted(preferred), "excluded": sorted(excluded),
            "monthly_offer_cap": monthly_offer_cap, "digest": digest_enabled,
        },
    )  # fmt: skip
    wider = (
        (attorney.remote_ok and not before[0])
        or (detained_ok and not before[1])
        or bool(before[2] - excluded)
    )
    if wider:
        _matching_run_request(attorney, trigger="preferences")
    return attorney


def _codes(relation: "Manager[CaseType]") -> list[str]:
    return list(relation.values_list("pk", flat=True))


@transaction.atomic
def attorney_digest_unsubscribe(*, attorney: AttorneyProfile, actor: Actor = None) -> bool:
    """Switch the weekly digest off (the signed link in every digest, no login needed).
    Idempotent: a conditional update; True only when it was on."""
    changed = AttorneyProfile.objects.filter(pk=attorney.pk, digest_enabled=True).update(
        digest_enabled=False
    )
    if changed:
        event_record(verb="attorney.digest_unsubscribed", actor=actor, target=attorney, data={})
    return bool(changed)


def _unpaused(before: date | None, after: date | None) -> bool:
    """Whether the attorney becomes available sooner (a pause lifted or shortened)."""
    return before is not None and (after is None or after < before)


def _matching_run_request(attorney: AttorneyProfile, *, trigger: str) -> None:
    """A verified attorney's new supply asks for a debounced matching run after commit; an
    unverified one is not matchable yet, so their edits ask for nothing."""
    from matching.followups import matching_run_request

    if attorney.verification == AttorneyProfile.Verification.VERIFIED:
        matching_run_request(trigger=trigger)


def _verification_set(
    *,
    attorney: AttorneyProfile,
    actor: Actor,
    status: str,
    verb: str,
    data: dict[str, Any] | None = None,
) -> AttorneyProfile:
    from volunteers.tasks import attorney_verification_email_task

    attorney = _locked(attorney)
    if attorney.verification == status:
        return attorney  # idempotent: a second click neither logs nor mails again
    now = timezone.now()
    attorney.verification = status
    attorney.verified_at = now if status == AttorneyProfile.Verification.VERIFIED else None
    attorney.save(update_fields=["verification", "verified_at", "updated_at"])
    if status == AttorneyProfile.Verification.VERIFIED:
        attorney.bar_admissions.filter(verified_at__isnull=True).update(verified_at=now)
    event_record(verb=verb, actor=actor, target=attorney, data=data or {})
    attorney_verification_email_task.delay_on_commit(attorney.pk)
    _matching_run_request(attorney, trigger="attorney")
    return attorney


@transaction.atomic
def attorney_verify(*, attorney: AttorneyProfile, actor: Actor) -> AttorneyProfile:
    """A coordinator checked the bar admission: the attorney can now receive offers."""
    if not attorney.bar_admissions.filter(status=BarAdmission.Status.ACTIVE).exists():
        raise AttorneyError(
            "This attorney has no active bar admission on file.", code="no_active_admission"
        )
    return _verification_set(
        attorney=attorney,
        actor=actor,
        status=AttorneyProfile.Verification.VERIFIED,
        verb="attorney.verified",
    )


@transaction.atomic
def attorney_reject(
    *, attorney: AttorneyProfile, actor: Actor, reason: str = ""
) -> AttorneyProfile:
    if attorney.active_cases:
        raise AttorneyError(
            "This attorney carries active matches; resolve them first.", code="has_active_cases"
        )
    return _verification_set(
        attorney=attorney,
        actor=actor,
        status=AttorneyProfile.Verification.REJECTED,
        verb="attorney.rejected",
        data={"reason_given": bool(reason.strip())},
    )


class AccountDeleteBlocked(AttorneyError):
    """Refused account deletion; `matches` are the offers and cases that block it."""

    code = "has_active_cases"

    def __init__(self, matches: list[Match]):
        super().__init__(
            "You still hold active offers or cases. Decline the offers and ask a coordinator to "
            "reassign your cases before deleting your account."
        )
        self.matches = matches


@transaction.atomic
def attorney_account_delete(*, user: User) -> None:
    """Anonymise the attorney's personal data; keep the rows that aggregate history counts.

    Open offers and accepted cases block it (AccountDeleteBlocked lists them): the attorney
    answers the offers and a coordinator reassigns the cases. Proposals the attorney has not seen
    yet are withdrawn through the matching services and their cases go back to matching.
    Matches, languages, practice areas and the organization link stay (no personal data; they
    feed placement statistics); name, email, phone, EOIR ID, bar numbers, home location,
    verified emails and MFA devices go. The account can never sign in again (SEC-25).
    """
    attorney = AttorneyProfile.objects.filter(user=user).first()
    if attorney is not None:
        _proposals_withdraw(attorney)
        attorney = _locked(attorney)
        blocking = _blocking_matches(attorney)
        if blocking:
            raise AccountDeleteBlocked(blocking)
    handle = f"deleted-{secrets.token_hex(8)}"
    user.username, user.email, user.first_name, user.last_name = handle, "", "", ""
    user.is_active = False
    user.set_unusable_password()
    user.save()
    EmailAddress.objects.filter(user=user).delete()
    _mfa_remove(user)
    if attorney is not None:
        attorney.bar_admissions.all().delete()
        attorney.phone = attorney.eoir_id = ""
        attorney.home_zip, attorney.latitude, attorney.longitude = "00000", 0, 0
        attorney.verification = AttorneyProfile.Verification.REJECTED
        attorney.verified_at = None
        attorney.save()
    event_record(verb="attorney.deleted", actor=None, target=attorney or user)


def _blocking_matches(attorney: AttorneyProfile) -> list[Match]:
    from matching.models import Match

    return list(
        Match.objects.filter(
            attorney=attorney, status__in=(Match.Status.OFFERED, Match.Status.ACCEPTED)
        )
        .select_related("case")
        .order_by("status", "pk")
    )


def _proposals_withdraw(attorney: AttorneyProfile) -> None:
    """Proposals the attorney cannot see go back to matching before the account goes."""
    from matching import services as matching_services
    from matching.models import Match

    proposals = Match.objects.filter(
        attorney=attorney, status__in=(Match.Status.PROPOSED, Match.Status.APPROVED)
    )
    for match in proposals:
        matching_services.match_withdraw_proposal(match=match, user=attorney.user)


def _mfa_remove(user: User) -> None:
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user=user).delete()


def _hours_day_check(*, match: Match, worked_on: date) -> None:
    accepted_on = (
        attorney_today(attorney=match.attorney, at=match.responded_at)
        if match.responded_at
        else None
    )
    if accepted_on is not None and worked_on < accepted_on:
        raise AttorneyError(
            f"Log hours from the day you accepted the case ({accepted_on:%-d %B %Y}) on.",
            code="before_acceptance",
        )
    if worked_on > attorney_today(attorney=match.attorney):
        raise AttorneyError("Log hours already worked, not future ones.", code="future_date")


HOURS_PER_DAY = Decimal(24)
# The same hours on the same day of the same case, logged again within this long, are taken for
# the form sent again (Back, then Send: the page is never cached, so it comes with a new one-time
# token) until the attorney says they are more hours.
HOURS_REPEAT_WINDOW = timedelta(minutes=15)


def attorney_today(*, attorney: AttorneyProfile, at: datetime | None = None) -> date:
    """The attorney's calendar date now (or at a moment), in their own time zone
    (volunteers.timezones): the default and the latest day of the hours form, and the check."""
    return attorney_localdate(attorney, now=at)


@transaction.atomic
def case_hours_log(
    *,
    match: Match,
    user: User,
    hours: Decimal,
    worked_on: date,
    submission_token: UUID | None = None,
    again: bool = False,
) -> tuple[CaseHours, bool]:
    """The attorney who accepted the case logs pro bono hours on it (pledges count them);
    returns (entry, created).

    The day lies between the acceptance and the attorney's today, and a day holds at most 24
    hours in all (issue 11 #9): the wall shows these hours publicly. The attorney's row is
    locked, so two entries for one day cannot both pass the total check. A submission sent
    again (its ``submission_token``, core.forms) logs nothing: after the lock the second finds
    the first's entry and returns it, with False. The same hours for the same day logged on
    the case within HOURS_REPEAT_WINDOW are refused unless ``again`` says they are more hours.
    """
    if match.status != Match.Status.ACCEPTED or match.attorney.user_id != user.pk:
        raise AttorneyError("Hours are logged on your accepted cases only.", code="not_your_case")
    _locked(match.attorney)
    if (earlier := _hours_submitted(match=match, submission_token=submission_token)) is not None:
        return earlier, False
    _hours_day_check(match=match, worked_on=worked_on)
    if not again:
        _hours_repeat_check(match=match, hours=hours, worked_on=worked_on, token=submission_token)
    logged = CaseHours.objects.filter(
        match__attorney_id=match.attorney_id, worked_on=worked_on
    ).aggregate(total=Sum("hours"))["total"] or Decimal(0)
    # To the field's tenth on every database (SQLite's sum of 20.0 comes back as 20).
    logged = logged.quantize(Decimal("0.1"))
    if logged + hours > HOURS_PER_DAY:
        raise AttorneyError(
            f"You have already logged {logged} hours on {worked_on:%-d %B %Y}; a day holds at "
            f"most 24 hours in all, so at most {HOURS_PER_DAY - logged} more.",
            code="day_full",
        )
    try:
        with transaction.atomic():  # a savepoint: a twin's unique violation spares the rest
            entry = CaseHours.objects.create(
                match=match, hours=hours, worked_on=worked_on, submission_token=submission_token
            )
    except IntegrityError:  # the token of an entry committed since the lookup (not locked)
        if (earlier := _hours_submitted(match=match, submission_token=submission_token)) is None:
            raise
        return earlier, False
    event_record(verb="case.hours_logged", actor=user, target=match, data={"hours": str(hours)})
    return entry, True


def _hours_repeat_check(
    *, match: Match, hours: Decimal, worked_on: date, token: UUID | None
) -> None:
    """Refuses the hours just logged on the case for that day (HOURS_REPEAT_WINDOW). An entry
    of this very submission is not a repeat but its twin, which the insert finds (its token)."""
    same = CaseHours.objects.filter(
        match=match,
        hours=hours,
        worked_on=worked_on,
        created_at__gte=timezone.now() - HOURS_REPEAT_WINDOW,
    )
    if token is not None:
        same = same.exclude(submission_token=token)
    if (recent := same.order_by("-created_at").first()) is not None:
        minutes = max(1, round((timezone.now() - recent.created_at).total_seconds() / 60))
        ago = "a minute" if minutes == 1 else f"{minutes} minutes"
        raise AttorneyError(
            f"You logged {hours} hours for {worked_on:%-d %B %Y} on this case {ago} ago. If these "
            'are more hours, tick "These are more hours" and send again.',
            code="just_logged",
        )


def _hours_submitted(*, match: Match, submission_token: UUID | None) -> CaseHours | None:
    """The entry this submission logged already; a token of another case's entry is refused
    (it names nothing of it)."""
    if submission_token is None:
        return None
    earlier = CaseHours.objects.filter(submission_token=submission_token).first()
    if earlier is not None and earlier.match_id != match.pk:
        raise AttorneyError(
            "This form was sent for another case. Reload the page and enter the hours again.",
            code="submission_reused",
        )
    return earlier


@transaction.atomic
def attorney_affiliation_decide(
    *, attorney: AttorneyProfile, actor: Actor, approve: bool
) -> AttorneyProfile:
    """Approve (the attorney joins the organization they asked to join) or decline (only the
    request goes). Callers decide who may: a coordinator in the admin (model permission), or an
    approved manager of that organization (pledges:attorney_decide, scoped by its selector)."""
    attorney = _locked(attorney)
    organization_id = attorney.organization_requested_id
    if organization_id is None:
        raise AttorneyError("There is no request to decide.", code="no_request")
    if approve:
        attorney.organization_id = organization_id
    attorney.organization_requested = None
    attorney.save(update_fields=["organization", "organization_requested", "updated_at"])
    event_record(
        verb="attorney.affiliation_approved" if approve else "attorney.affiliation_declined",
        actor=actor,
        target=attorney,
        data={"organization_id": organization_id},
    )
    return attorney


# An organization manager's invitation (pledges:join) leaves the organization's id here; the
# attorney's first saved profile step joins it (attorney_affiliate_by_invite).
INVITE_SESSION_KEY = "pledges_invite_organization"


@transaction.atomic
def attorney_affiliate_by_invite(*, attorney: AttorneyProfile, organization_id: int) -> bool:
    """An invited attorney's profile joins the inviting organization, unless it already names
    one (the attorney's own choice wins). Returns whether the affiliation was set."""
    attorney = AttorneyProfile.objects.select_for_update().get(pk=attorney.pk)
    if attorney.organization_id is not None:
        return False
    organization = Organization.objects.filter(pk=organization_id).first()
    if organization is None:
        return False
    attorney.organization, attorney.organization_requested = organization, None
    attorney.save(update_fields=["organization", "organization_requested", "updated_at"])
    event_record(
        verb="attorney.affiliated_by_invite",
        actor=attorney.user,
        target=attorney,
        data={"organization_id": organization.pk},
    )
    return True


def attorney_calendar_link_create(*, attorney: AttorneyProfile, actor: Actor) -> str:
    """A new secret token for the attorney's hearing calendar; the old link stops working at
    once. The token is returned once, to show the URL; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        CalendarFeed.objects.update_or_create(
            attorney=attorney, defaults={"token_hash": calendar_token_hash(token)}
        )
        event_record(verb="attorney.calendar_link_created", actor=actor, target=attorney)
    return token


def attorney_calendar_link_revoke(*, attorney: AttorneyProfile, actor: Actor) -> None:
    """Turn the hearing calendar off: its URL answers 404 from now on."""
    with transaction.atomic():
        if CalendarFeed.objects.filter(attorney=attorney).delete()[0]:
            event_record(verb="attorney.calendar_link_revoked", actor=actor, target=attorney)
