"""Reads for the mentoring pages, scoped to who asks (404 for anyone else: SEC-12).

A mentor sees a mentee's case only once the mentee shared it, and then in the same stages as an
attorney sees an offer (SEC-15):

    stage          selector                   shows
    summary        shared_summary             the non-identifying summary
    parties        shared_parties             + the respondent's name (for the conflict check)
    full record    shared_record              + A-number and contact route, after attesting

Each stage's fetch answers 404 until its stage is reached: a share not attested has no record.
"""

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import User
from django.db.models import Prefetch

from cases.models import CaseType, Language
from core.errors import AccessRefused
from core.types import AnyUser
from matching.models import Match
from mentoring.models import CaseShare, MentoringProfile, Mentorship
from mentoring.services import mentor_eligible
from volunteers.models import AttorneyProfile
from volunteers.selectors import CaseSummary, case_summary, record_disclosure

Status = Mentorship.Status
VERIFIED = AttorneyProfile.Verification.VERIFIED
_CASE_RELATED = ("match__case__language", "match__case__court", "match__case__case_type")


@dataclass(frozen=True)
class MentoringPanel:
    """The mentoring part of an attorney's dashboard."""

    profile: MentoringProfile | None
    can_mentor: bool
    as_mentee: Mentorship | None  # the attorney's own active mentorship, as mentee
    shareable: list[Match]  # accepted cases not shared with the mentor yet
    shared: list[CaseShare]  # cases the attorney shared with their mentor
    offers: list[Mentorship]  # mentoring offers waiting for the attorney's answer
    mentees: list[Mentorship]  # accepted mentorships as mentor, shares prefetched


def mentoring_panel(*, attorney: AttorneyProfile) -> MentoringPanel:
    """A fixed number of queries, however many mentees and cases."""
    profile = MentoringProfile.objects.filter(attorney=attorney).first()
    if attorney.verification != VERIFIED:
        return MentoringPanel(profile, False, None, [], [], [], [])
    as_mentee = (
        Mentorship.objects.filter(mentee=attorney, status__in=Mentorship.ACTIVE_STATUSES)
        .select_related("mentor__user")
        .first()
    )
    shared, shareable = _mentee_cases(attorney, as_mentee)
    as_mentor = Mentorship.objects.filter(mentor=attorney).select_related("mentee__user")
    shares = CaseShare.objects.select_related(*_CASE_RELATED).filter(
        match__status=Match.Status.ACCEPTED
    )
    return MentoringPanel(
        profile=profile,
        can_mentor=mentor_eligible(attorney=attorney),
        as_mentee=as_mentee,
        shareable=shareable,
        shared=shared,
        offers=list(as_mentor.filter(status=Status.OFFERED).select_related("mentee__mentoring")),
        mentees=list(
            as_mentor.filter(status=Status.ACCEPTED).prefetch_related(
                Prefetch("shares", queryset=shares, to_attr="live_shares")
            )
        ),
    )


def _mentee_cases(
    attorney: AttorneyProfile, as_mentee: Mentorship | None
) -> tuple[list[CaseShare], list[Match]]:
    if as_mentee is None or as_mentee.status != Status.ACCEPTED:
        return [], []
    shared = list(
        CaseShare.objects.filter(
            mentorship=as_mentee, match__status=Match.Status.ACCEPTED
        ).select_related(*_CASE_RELATED)
    )
    taken = {s.match_id for s in shared}
    accepted = Match.objects.filter(attorney=attorney, status=Match.Status.ACCEPTED)
    related = ("case__language", "case__court", "case__case_type")
    return shared, [m for m in accepted.select_related(*related) if m.pk not in taken]


def mentorship_offer_get_for_mentor(*, user: User, mentorship_id: int) -> Mentorship:
    """An open mentoring offer to this verified mentor, else 404."""
    mentorship = (
        Mentorship.objects.select_related("mentee__user", "mentee__mentoring")
        .filter(
            pk=mentorship_id,
            status=Status.OFFERED,
            mentor__user_id=user.pk,
            mentor__verification=VERIFIED,
        )
        .first()
    )
    if mentorship is None:
        raise AccessRefused(Mentorship._meta.label_lower, "No such offer.")
    return mentorship


def mentorship_get_for_party(*, user: AnyUser, mentorship_id: int) -> Mentorship:
    """An accepted mentorship the user is the mentor or the mentee of, else 404."""
    mentorship = Mentorship.objects.filter(pk=mentorship_id, status=Status.ACCEPTED).first()
    if mentorship is None or user.pk not in _party_user_ids(mentorship):
        raise AccessRefused(Mentorship._meta.label_lower, "No such mentorship.")
    return mentorship


def _party_user_ids(mentorship: Mentorship) -> set[int]:
    return set(
        AttorneyProfile.objects.filter(
            pk__in=[mentorship.mentor_id, mentorship.mentee_id]
        ).values_list("user_id", flat=True)
    )


def match_get_for_mentee(*, user: User, match_id: int) -> Match:
    """The signed-in attorney's own accepted case (to share it), else 404."""
    match = Match.objects.filter(
        pk=match_id,
        status=Match.Status.ACCEPTED,
        attorney__user_id=user.pk,
        attorney__verification=VERIFIED,
    ).first()
    if match is None:
        raise AccessRefused(Match._meta.label_lower, "No such case.")
    return match


# The mentor's stages of a shared case (SEC-15)


@dataclass(frozen=True)
class SharedSummary:
    share_id: int
    mentee: str
    conflict_attested_at: datetime | None
    case: CaseSummary


@dataclass(frozen=True)
class SharedParties:
    share_id: int
    case_reference: str
    parties: tuple[tuple[str, str], ...]  # the respondent's name, for the conflict check


@dataclass(frozen=True)
class SharedRecord:
    share_id: int
    mentee: str
    case: CaseSummary
    respondent: tuple[tuple[str, str], ...]  # name, A-number, contact route; blanks left out


def share_get_for_mentor(*, user: User, share_id: int) -> CaseShare:
    """A case shared with this verified mentor in a live mentorship, while its attorney still
    holds it; else 404 (another mentor, an ended mentorship, a case no longer accepted)."""
    share = (
        CaseShare.objects.select_related("mentorship__mentee__user", *_CASE_RELATED)
        .filter(
            pk=share_id,
            mentorship__status=Status.ACCEPTED,
            mentorship__mentor__user_id=user.pk,
            mentorship__mentor__verification=VERIFIED,
            match__status=Match.Status.ACCEPTED,
        )
        .first()
    )
    if share is None:
        raise AccessRefused(CaseShare._meta.label_lower, "No such case.")
    return share


def share_attested_get_for_mentor(*, user: User, share_id: int) -> CaseShare:
    """The full record opens only after the mentor's conflict check: 404 before it."""
    share = share_get_for_mentor(user=user, share_id=share_id)
    if share.conflict_attested_at is None:
        raise AccessRefused(CaseShare._meta.label_lower, "No such case.")
    return share


def shared_summary(*, share: CaseShare) -> SharedSummary:
    return SharedSummary(
        share_id=share.pk,
        mentee=str(share.mentorship.mentee),
        conflict_attested_at=share.conflict_attested_at,
        case=case_summary(case=share.match.case),
    )


def shared_parties(*, share: CaseShare) -> SharedParties:
    case = share.match.case
    name = case.respondent_name
    return SharedParties(
        share_id=share.pk,
        case_reference=case.reference,
        parties=(("Respondent", str(name)),) if name else (),
    )


def shared_record(*, share: CaseShare) -> SharedRecord:
    if share.conflict_attested_at is None:  # a caller that skipped the attested fetch
        raise AccessRefused(CaseShare._meta.label_lower, "No such case.")
    record = record_disclosure(match=share.match)
    return SharedRecord(
        share_id=share.pk,
        mentee=str(share.mentorship.mentee),
        case=record.case,
        respondent=record.respondent,
    )


def mentorship_reasons(*, mentorship: Mentorship) -> tuple[str, ...]:
    """Why the pair was proposed, in plain words, from the breakdown the run stored."""
    b = mentorship.breakdown if isinstance(mentorship.breakdown, dict) else {}
    reasons = []
    if b.get("language"):
        language = Language.objects.filter(code=b["language"]).first()
        reasons.append(f"You both speak {language.name if language else b['language']}")
    if b.get("areas"):
        names = CaseType.objects.filter(code__in=b["areas"]).values_list("name", flat=True)
        reasons.append("Shared practice areas: " + ", ".join(sorted(names)))
    if b.get("remote"):
        reasons.append(f"You would meet by video ({b.get('miles')} miles apart)")
    elif b.get("miles") is not None:
        reasons.append(f"{b['miles']} miles apart")
    return tuple(reasons)
