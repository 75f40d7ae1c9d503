"""Reads for the attorney pages, scoped to the signed-in attorney (STYLE 4, SEC-11, SEC-12).

Staged disclosure (SEC-15) is decided here and only here: one selector per stage returns a frozen
record of exactly the fields that stage may show, and the pages render that record, never the
case itself, so no template can reach an identifier its stage does not allow.

    stage          selector                 shows
    offer          offer_disclosure         the non-identifying summary and why the match
    parties        parties_disclosure       + the respondent's name (for the conflict check)
    full record    record_disclosure        + the A-number and the contact route (after accept)
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Q, QuerySet
from django.http import Http404

from cases.identifiers import format_a_number, is_canonical_a_number
from cases.models import CaseRequest, Language
from core.errors import AccessRefused
from core.types import AnyUser
from matching.board import BoardFilters, BoardScope, Cursor, board_page
from matching.models import Match, StatusRequest
from matching.selectors import (
    active_cases_for_attorney,
    match_get_for_attorney,
    match_sentences,
    offers_for_attorney,
    status_request_token_hash,
)
from volunteers.calendar import CalendarEvent, calendar_token_hash
from volunteers.models import AttorneyProfile, BarAdmission, CalendarFeed, Organization

# Statuses an attorney ever sees: proposals and approvals are internal until offered.
_HISTORY_STATUSES = (
    Match.Status.DECLINED,
    Match.Status.EXPIRED,
    Match.Status.WITHDRAWN,
    Match.Status.COMPLETED,
    Match.Status.RETURNED,
)
_CASE_RELATED = ("case__language", "case__court", "case__case_type")


def attorney_for_user(*, user: AnyUser) -> AttorneyProfile | None:
    if not user.is_authenticated:
        return None
    return AttorneyProfile.objects.select_related("organization", "user").filter(user=user).first()


def attorney_is_verified(*, user: AnyUser) -> bool:
    return (
        user.is_authenticated
        and user.is_active
        and AttorneyProfile.objects.filter(
            user=user, verification=AttorneyProfile.Verification.VERIFIED
        ).exists()
    )


@dataclass(frozen=True)
class ProfileProgress:
    about: bool
    organization: bool
    bar: bool
    languages: bool
    practice: bool
    capacity: bool
    # Every preference has a default: the step counts as done with the practice areas.
    preferences: bool = False

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def missing(self) -> list[str]:
        """The steps a coordinator needs before verifying, not yet done, in walking order."""
        return [step for step in ("about", "bar", "languages", "practice") if not self.done(step)]

    def done(self, step: str) -> bool:
        return bool(getattr(self, step))


def profile_progress(*, attorney: AttorneyProfile | None) -> ProfileProgress:
    if attorney is None:
        return ProfileProgress(False, False, False, False, False, False)
    bar = attorney.bar_admissions.filter(status=BarAdmission.Status.ACTIVE).exists()
    languages = attorney.language_skills.exists()
    practice = attorney.practice_area_links.exists()
    return ProfileProgress(
        about=True,
        # Optional: done once named, or once passed (a solo attorney's bar admission is saved).
        organization=bool(attorney.organization_id or attorney.eoir_id) or bar,
        bar=bar,
        languages=languages,
        practice=practice,
        # Capacity has a default (1); the step counts as done once the rest is.
        capacity=bar and languages and practice,
        preferences=practice,
    )


def language_search(*, query: str, limit: int = 20) -> list[dict[str, str]]:
    """Languages whose name or ISO 639-3 code matches, common ones first (Language.Meta)."""
    query = query.strip()[:60]
    languages = Language.objects.all()
    if query:
        languages = languages.filter(Q(name__icontains=query) | Q(code__iexact=query)).order_by(
            *(Language._meta.ordering or ())
        )
    else:
        languages = languages.filter(common_rank__isnull=False)
    return [
        {"code": code, "name": name} for code, name in languages.values_list("code", "name")[:limit]
    ]


def common_languages() -> QuerySet[Language]:
    return Language.objects.filter(common_rank__isnull=False)


def organizations_for_picking(*, attorney: AttorneyProfile | None) -> QuerySet[Organization]:
    """Confirmed organizations, plus the one the attorney named themselves (unconfirmed)."""
    condition = Q(confirmed=True)
    if attorney is not None and attorney.organization_id:
        condition |= Q(pk=attorney.organization_id)
    return Organization.objects.filter(condition).order_by("name")


@dataclass(frozen=True)
class Dashboard:
    attorney: AttorneyProfile
    offers: list[Match]
    cases: list[Match]
    history: list[Match]

    @property
    def capacity_used(self) -> int:
        return self.attorney.active_cases

    @property
    def capacity_free(self) -> int:
        return self.attorney.free_capacity


def attorney_dashboard(*, attorney: AttorneyProfile) -> Dashboard:
    """Offers, cases and history in three queries, however many there are."""
    if attorney.verification != AttorneyProfile.Verification.VERIFIED:
        return Dashboard(attorney=attorney, offers=[], cases=[], history=[])  # SEC-11
    user = attorney.user
    history = (
        Match.objects.filter(attorney=attorney, status__in=_HISTORY_STATUSES)
        .select_related(*_CASE_RELATED)
        .order_by("-status_changed_at")[:20]
    )
    return Dashboard(
        attorney=attorney,
        offers=list(offers_for_attorney(user=user)),
        cases=list(active_cases_for_attorney(user=user)),
        history=list(history),
    )


def _match_in_status(*, user: AnyUser, match_id: int, status: str) -> Match:
    """The attorney's own match in `status`, else 404 (SEC-12).

    matching.selectors already answers 404 for anyone else's match and for attorneys who are not
    verified, who see no case data at all (SEC-11).
    """
    match = match_get_for_attorney(user=user, match_id=match_id)
    if match.status != status:  # the attorney's own match, at a stage this page is not for
        raise AccessRefused(Match._meta.label_lower, "No such offer.")
    return match


def offer_get_for_attorney(*, user: AnyUser, match_id: int) -> Match:
    return _match_in_status(user=user, match_id=match_id, status=Match.Status.OFFERED)


# Where an offer can end after the attorney saw it. A proposal that was rejected or withdrawn
# before it was offered was never theirs to see: it stays a 404 like anyone else's (SEC-11).
_OFFER_ENDINGS = (
    Match.Status.ACCEPTED,
    Match.Status.COMPLETED,
    Match.Status.RETURNED,
    Match.Status.DECLINED,
    Match.Status.EXPIRED,
    Match.Status.WITHDRAWN,
    Match.Status.REJECTED,
)


def offer_seen_get_for_attorney(*, user: AnyUser, match_id: int) -> Match:
    """The attorney's own offer, open or answered since (the e-mail link, the Back button);
    404 for anyone else's match and for proposals that were never offered (SEC-12)."""
    match = match_get_for_attorney(user=user, match_id=match_id)
    if match.offered_at is None or match.status not in (Match.Status.OFFERED, *_OFFER_ENDINGS):
        raise AccessRefused(Match._meta.label_lower, "No such offer.")
    return match


@dataclass(frozen=True)
class OfferOutcome:
    """What became of an offer, for the page its link still opens (no identifier: SEC-15)."""

    status: str
    headline: str
    when: datetime | None
    case_reference: str = ""
    decline_reason: str = ""  # the attorney's own reason, when they declined


def offer_outcome(*, match: Match, now: datetime) -> OfferOutcome | None:
    """None while the offer is open; else what happened and when. An offer past its deadline
    reads as expired even before the expiry task has run (the deadline holds regardless)."""
    Status = Match.Status
    status: str
    if match.status == Status.OFFERED:
        if match.expires_at is None or match.expires_at > now:
            return None
        status, headline, when = Status.EXPIRED, _OUTCOME_HEADLINES[Status.EXPIRED], None
    else:
        status, headline = match.status, _OUTCOME_HEADLINES[match.status]
        when = match.responded_at if status in (Status.ACCEPTED, Status.DECLINED) else None
    if status == Status.EXPIRED:
        when = match.expires_at
    declined = status == Status.DECLINED and match.decline_reason
    return OfferOutcome(
        status=status,
        headline=headline,
        when=when or match.status_changed_at,
        case_reference=match.case.reference,
        decline_reason=match.get_decline_reason_display() if declined else "",
    )


_OUTCOME_HEADLINES: dict[str, str] = {
    Match.Status.ACCEPTED: "You accepted this case.",
    Match.Status.DECLINED: "You declined this offer.",
    Match.Status.EXPIRED: "This offer expired without an answer.",
    Match.Status.WITHDRAWN: "The case was withdrawn, so this offer was closed.",
    Match.Status.REJECTED: "A coordinator withdrew this offer.",
    Match.Status.COMPLETED: "You accepted this case; it is closed now.",
    Match.Status.RETURNED: "You handed this case back; it went back to matching.",
}


# The opportunity board (matching.board): open cases shown as an offer shows them (CaseSummary).


@dataclass(frozen=True)
class Opportunity:
    summary: "CaseSummary"
    reasons: tuple[str, ...]  # why it fits, in the scorer's words


@dataclass(frozen=True)
class OpportunityPage:
    opportunities: list[Opportunity]
    next_cursor: str | None
    requested: list[str]  # references of the attorney's own requests awaiting review


def opportunity_page(
    *, attorney: AttorneyProfile, scope: BoardScope, filters: BoardFilters, after: Cursor | None
) -> OpportunityPage:
    """One page of the board, each case reduced to the offer stage's summary (SEC-15)."""
    page = board_page(scope=scope, filters=filters, after=after)
    waiting = Match.objects.filter(
        attorney=attorney,
        source=Match.Source.ATTORNEY,
        status__in=(Match.Status.PROPOSED, Match.Status.APPROVED),
    )
    return OpportunityPage(
        opportunities=[Opportunity(_case_summary(row.case), row.reasons) for row in page.rows],
        next_cursor=page.next_cursor.encode() if page.next_cursor else None,
        requested=list(waiting.order_by("-created_at").values_list("case__reference", flat=True)),
    )


def opportunity_case_get(*, reference: str) -> CaseRequest:
    """A case an attorney may ask for from the board, by its public reference: open, or taken
    a moment ago (the request then says so). Anything else is a 404."""
    live = (CaseRequest.Status.OPEN, CaseRequest.Status.MATCHED, CaseRequest.Status.REPRESENTED)
    case = (
        CaseRequest.objects.select_related("language", "relay_language", "case_type", "court")
        .filter(reference=str(reference)[:16], status__in=live)
        .first()
    )
    if case is None:
        raise AccessRefused(CaseRequest._meta.label_lower, "No such case.")
    return case


def case_get_for_attorney(*, user: AnyUser, match_id: int) -> Match:
    """The full record opens only after the attorney accepted (SEC-15)."""
    return _match_in_status(user=user, match_id=match_id, status=Match.Status.ACCEPTED)


def status_request_get_for_attorney(*, user: AnyUser, token: str) -> StatusRequest:
    """The status request an e-mailed link names, for its own attorney only: an unknown token,
    or anyone else's request (another attorney, an unverified one), is a 404 (SEC-12). The link
    carries a random token, never an id; answered or expired requests are returned, and the
    page says so."""
    if not token or len(token) > 128:
        raise AccessRefused(StatusRequest._meta.label_lower, "No such request.")
    row = (
        StatusRequest.objects.select_related("match__attorney", "match__case")
        .filter(token_hash=status_request_token_hash(token))
        .first()
    )
    attorney = row.match.attorney if row is not None else None
    if (
        row is None
        or attorney is None
        or attorney.user_id != user.pk
        or attorney.verification != AttorneyProfile.Verification.VERIFIED
    ):
        raise AccessRefused(StatusRequest._meta.label_lower, "No such request.")
    return row


def status_request_open_for_match(*, match: Match) -> StatusRequest | None:
    return StatusRequest.objects.filter(match=match, answered_at__isnull=True).first()


# The hearing calendar (volunteers.calendar): dates of the attorney's accepted cases, named by the
# case reference, court and kind only. Calendars get shared, so no name and no A-number.


def attorney_by_calendar_token(*, token: str) -> AttorneyProfile | None:
    """The verified attorney whose calendar link carries this token, or None."""
    if not token or len(token) > 100:
        return None
    feed = (
        CalendarFeed.objects.select_related("attorney")
        .filter(
            token_hash=calendar_token_hash(token),
            attorney__verification=AttorneyProfile.Verification.VERIFIED,
            attorney__user__is_active=True,
        )
        .first()
    )
    return feed.attorney if feed else None


def attorney_calendar_events(*, attorney: AttorneyProfile) -> list[CalendarEvent]:
    matches = Match.objects.filter(attorney=attorney, status=Match.Status.ACCEPTED).select_related(
        "case__court", "case__case_type"
    )
    events: list[CalendarEvent] = []
    for match in matches.order_by("pk"):
        case = match.case
        kind = case.get_next_hearing_type_display() or "Hearing"
        dates = [("hearing", f"{kind} hearing", case.next_hearing_date)]
        dates.append(("deadline", "Filing deadline", case.filing_deadline))
        events += [_calendar_event(case, slug, what, day) for slug, what, day in dates if day]
    return events


def _calendar_event(case: CaseRequest, slug: str, what: str, day: date) -> CalendarEvent:
    where = f"{case.court.name}, {case.court.state}"
    return CalendarEvent(
        uid=f"{case.reference}-{slug}",
        day=day,
        summary=f"{what} · {case.reference} · {where}",
        description=f"{case.case_type.name}. Immigration court: {where}.",
    )


# Staged disclosure (SEC-15)


@dataclass(frozen=True)
class CaseSummary:
    """What every stage may show: nothing here identifies the person."""

    reference: str
    case_type: str
    language: str
    relay_interpreter_ok: bool
    court: str
    detained: bool
    remote_ok: bool
    next_hearing_date: date | None
    filing_deadline: date | None
    summary: str


@dataclass(frozen=True)
class OfferDisclosure:
    match_id: int
    expires_at: datetime | None
    conflict_attested_at: datetime | None
    case: CaseSummary
    reasons: tuple[str, ...]  # why the attorney was matched, in plain words


@dataclass(frozen=True)
class PartiesDisclosure:
    match_id: int
    case_reference: str
    # (label, value) pairs: the respondent's name, for the conflict check; nothing else.
    parties: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class RecordDisclosure:
    match_id: int
    responded_at: datetime | None
    case: CaseSummary
    # (label, value) pairs: name, A-number in its display form, contact route; blanks left out.
    respondent: tuple[tuple[str, str], ...]


def offer_disclosure(*, match: Match) -> OfferDisclosure:
    """Stage 1, an open offer: the summary and the reasons, no identifier at all."""
    _require_status(match, Match.Status.OFFERED)
    return OfferDisclosure(
        match_id=match.pk,
        expires_at=match.expires_at,
        conflict_attested_at=match.conflict_attested_at,
        case=_case_summary(match.case),
        reasons=match_reasons(breakdown=match.breakdown),
    )


def parties_disclosure(*, match: Match) -> PartiesDisclosure:
    """Stage 2, the conflict check: the names; the A-number and contact route stay closed."""
    _require_status(match, Match.Status.OFFERED)
    case = match.case
    return PartiesDisclosure(
        match_id=match.pk,
        case_reference=case.reference,
        parties=_present((("Respondent", case.respondent_name),)),
    )


def record_disclosure(*, match: Match) -> RecordDisclosure:
    """Stage 3, the full record: to the attorney who accepted only."""
    _require_status(match, Match.Status.ACCEPTED)
    case = match.case
    fields = (
        ("Respondent name", case.respondent_name),
        ("A-number", _a_number_shown(case.a_number)),
        ("How to reach the respondent", case.contact_route),
    )
    return RecordDisclosure(
        match_id=match.pk,
        responded_at=match.responded_at,
        case=_case_summary(case),
        respondent=_present(fields),
    )


def match_reasons(*, breakdown: object) -> tuple[str, ...]:
    """Why the attorney was matched, in the words every page shows (match_sentences, from the
    breakdown a run or a coordinator's swap stored); the points behind them are for
    coordinators, not for the offer."""
    return tuple(match_sentences(breakdown))


def _require_status(match: Match, status: str) -> None:
    # The fetching selectors already refuse other stages with a 404; this keeps a caller that
    # passes the wrong match from rendering a stage it has not reached.
    if match.status != status:
        raise Http404("No such offer.")


def _case_summary(case: CaseRequest) -> CaseSummary:
    return CaseSummary(
        reference=case.reference,
        case_type=case.case_type.name,
        language=case.language.name,
        relay_interpreter_ok=case.relay_interpreter_ok,
        court=str(case.court),
        detained=case.detained,
        remote_ok=case.remote_ok,
        next_hearing_date=case.next_hearing_date,
        filing_deadline=case.filing_deadline,
        summary=case.summary,
    )


def _a_number_shown(stored: str) -> str:
    """The display form (A-123-456-789); anything not canonical is shown as stored."""
    return format_a_number(stored) if is_canonical_a_number(stored) else stored


def _present(pairs: Iterable[tuple[str, object]]) -> tuple[tuple[str, str], ...]:
    """Leave out what is blank, or unreadable (an Unreadable value is the empty string)."""
    return tuple((label, str(value)) for label, value in pairs if value)


def case_summary(*, case: CaseRequest) -> CaseSummary:
    """The non-identifying summary every stage may show (mentoring's shared cases use it too)."""
    return _case_summary(case)


def attorney_for_digest_token(*, attorney_pk: int) -> AttorneyProfile | None:
    """The attorney a digest's signed unsubscribe link names (None if gone)."""
    return AttorneyProfile.objects.filter(pk=attorney_pk).first()
