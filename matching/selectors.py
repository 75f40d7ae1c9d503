"""Reads of matches: permission-scoped for attorneys, and the coordinator's match detail.

An attorney reaches a match only through these: anyone else's match, or any match while the
attorney is not verified, is a 404 (SEC-11, SEC-12), never a 403 that would confirm it exists.
The coordinator's match page (admin, behind the change-match permission) reads a stored
breakdown in words and the next best attorneys for the case.
"""

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypedDict

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Case,
    CharField,
    Exists,
    Expression,
    ExpressionWrapper,
    F,
    FilteredRelation,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import (
    ASin,
    Cast,
    Coalesce,
    Cos,
    Floor,
    Greatest,
    Least,
    Power,
    Radians,
    Sin,
    Sqrt,
)
from django.utils import timezone

from cases.models import CaseRequest, CaseType, Language
from core.errors import AccessRefused
from core.models import DomainEvent
from core.types import AnyUser
from matching.models import Match, StatusRequest
from matching.pipeline.load import other_languages_matched
from matching.pipeline.load.attorneys import preference_types
from matching.scoring import (
    AFFINITY_WEIGHTS,
    AffinityBreakdown,
    AffinityWeights,
    AttorneyFacts,
    CellFacts,
    Constraint,
    affinity,
    breakdown_of,
    eligibility,
    explain,
    explain_monthly_cap,
    other_languages_key,
)
from volunteers.models import AttorneyLanguage, AttorneyProfile, PracticeArea

# What an offer or case page shows beside the match: one query, however many rows.
_PAGE_RELATIONS = ("case__language", "case__court", "case__case_type", "attorney")


def match_get_for_attorney(*, user: AnyUser, match_id: int | str) -> Match:
    """The match if it belongs to this user's verified attorney profile; Http404 otherwise."""
    try:
        return _attorney_matches(user).get(pk=int(match_id))
    except (Match.DoesNotExist, TypeError, ValueError, OverflowError):
        raise AccessRefused(Match._meta.label_lower, "No such match.") from None


def offers_for_attorney(*, user: AnyUser) -> QuerySet[Match]:
    """Open offers, the one expiring first at the top."""
    return _attorney_matches(user).filter(status=Match.Status.OFFERED).order_by("expires_at", "pk")


def active_cases_for_attorney(*, user: AnyUser) -> QuerySet[Match]:
    """Accepted matches (the attorney's cases), the nearest hearing first."""
    return (
        _attorney_matches(user)
        .filter(status=Match.Status.ACCEPTED)
        .order_by("case__next_hearing_date", "pk")
    )


def offers_overdue(*, now: datetime | None = None) -> QuerySet[Match]:
    """Offers past their deadline, for the expiry task (served by match_offer_expiry_idx)."""
    now = now or timezone.now()
    return (
        Match.objects.filter(status=Match.Status.OFFERED, expires_at__lte=now)
        .order_by("expires_at")
        .only("pk", "attorney_id", "case_id")
    )


def offers_due_for_reminder(*, now: datetime | None = None) -> list[int]:
    """Ids of offers expiring within MATCH_OFFER_REMINDER_HOURS that were not reminded yet."""
    now = now or timezone.now()
    horizon = now + timedelta(hours=settings.MATCH_OFFER_REMINDER_HOURS)
    due = Match.objects.filter(
        status=Match.Status.OFFERED, expires_at__gt=now, expires_at__lte=horizon
    ).exclude(_has_event("match.reminded"))
    return list(due.order_by("expires_at").values_list("pk", flat=True))


def offers_not_notified(*, offered_before: datetime) -> list[int]:
    """Ids of open offers whose new-offer email never went out (the broker lost or refused it)."""
    pending = Match.objects.filter(
        status=Match.Status.OFFERED, offered_at__lte=offered_before, expires_at__gt=timezone.now()
    ).exclude(_has_event("match.offer_notified"))
    return list(pending.order_by("offered_at").values_list("pk", flat=True))


def _has_event(verb: str) -> Exists:
    """The match already has an event with this verb: the log remembers what was sent."""
    return Exists(
        DomainEvent.objects.filter(
            verb=verb,
            target_type=ContentType.objects.get_for_model(Match),
            target_id=Cast(OuterRef("pk"), CharField()),
        )
    )


def _attorney_matches(user: AnyUser | None) -> QuerySet[Match]:
    if user is None or not user.is_authenticated:
        return Match.objects.none()
    return Match.objects.filter(
        attorney__user=user, attorney__verification=AttorneyProfile.Verification.VERIFIED
    ).select_related(*_PAGE_RELATIONS)


# ---------------------------------------------------------------------------------------------
# The coordinator's match detail: the stored breakdown in words, the next best attorneys

NEXT_BEST_LIMIT = 5
# Rows read, at first, from the SQL ranking of every eligible attorney; doubled when floating
# point leaves the cut-off in doubt (see next_best_attorneys).
FIRST_WINDOW = 50
# How far the SQL affinity may be from matching.scoring's: a distance a hair across a whole point.
SQL_SLACK = 1
MAX_WINDOW = 3200

CONSTRAINT_WORDS = {
    Constraint.NOT_VERIFIED: "The attorney's bar admission is verified",
    Constraint.UNAVAILABLE: "The attorney is not paused",
    Constraint.NO_CAPACITY: "The attorney had free capacity",
    Constraint.LANGUAGE: "The attorney speaks the client's language (or the relay language)",
    Constraint.CASE_TYPE: "The attorney takes this case type",
    Constraint.EXCLUDED_TYPE: "The attorney has not excluded this case type",
    Constraint.DETAINED: "The attorney takes detained cases, if the client is detained",
    Constraint.DISTANCE: "The court is within the attorney's travel radius, or remote is possible",
}
PRIORITY_WORDS = {
    "detention": "detention",
    "hearing": "hearing soon",
    "deadline": "filing deadline",
    "waiting": "time waiting",
}


@dataclass(frozen=True)
class Candidate:
    attorney: AttorneyProfile
    breakdown: AffinityBreakdown
    score: int
    sentences: list[str]

    @property
    def affinity(self) -> int:
        return self.breakdown.total


def match_sentences(breakdown: object) -> list[str]:
    """Why the pair was proposed, in plain words: the one rendering of a stored breakdown, for
    the offer page and e-mails, the admin and anything else that shows it.

    A run stores the pair's affinity facts, not sentences (rendering them for hundreds of
    thousands of proposals was most of a run's write phase); they are worded here, when a
    proposal is viewed, by matching.scoring.explain, the same function and the same names
    (Language and CaseType rows) the run used to apply. Rows written before (runs, swaps and
    requests stored their ``explanation``) keep the sentences they stored: some of them lack
    facts the words now name (the preferences), so they are never re-worded.
    """
    if not isinstance(breakdown, dict):
        return []
    stored = breakdown.get("explanation")
    if isinstance(stored, list):
        return [str(sentence) for sentence in stored]
    parts = breakdown_of(breakdown.get("affinity"))
    if parts is None:
        return []
    codes = {code for code in (parts.language_code, parts.relay_for) if code}
    languages = dict(Language.objects.filter(code__in=codes).values_list("code", "name"))
    case_types = dict(CaseType.objects.filter(code=parts.case_type).values_list("code", "name"))
    sentences = explain(
        parts,
        language_name=lambda code: languages.get(code, code),
        case_type_name=lambda code: case_types.get(code, code),
    )
    cap = explain_monthly_cap(breakdown.get("monthly_cap"))
    return [*sentences, cap] if cap else sentences


def match_explanation(match: Match) -> dict[str, Any]:
    """The stored breakdown in words: sentences, points per part, priority parts."""
    breakdown = match.breakdown or {}
    parts = breakdown.get("affinity") or {}
    priority = breakdown.get("priority") or {}
    return {
        "sentences": match_sentences(breakdown),
        "points": [
            (label, parts[key])
            for key, label in (
                ("language", "language"),
                ("distance", "distance"),
                ("experience", "experience"),
                ("preference", "the attorney's preferences"),
            )
            if key in parts
        ],
        "priority": [
            (label, priority[key]) for key, label in PRIORITY_WORDS.items() if priority.get(key)
        ],
        "priority_total": priority.get("stored", priority.get("total")),
        "constraints": list(CONSTRAINT_WORDS.values()),
    }


def match_distance(match: Match) -> float | None:
    """Miles from the attorney to the court, as the run stored it."""
    return miles_or_none((match.breakdown or {}).get("affinity", {}).get("miles"))


def miles_or_none(miles: object) -> float | None:
    """A stored distance, or None for a breakdown without one (or not a number)."""
    return miles if isinstance(miles, int | float) else None


def next_best_attorneys(*, case: CaseRequest, limit: int = NEXT_BEST_LIMIT) -> list[Candidate]:
    """The best eligible attorneys for this case, other than those already paired with it.

    1. Rank every attorney who passes the hard constraints in SQL, by the run's affinity formula
       (matching.selectors.attorneys_ranked_for_case): tens of thousands of Spanish speakers are
       ranked in the database, not loaded.
    2. Read the first `window` of them and score those with matching.scoring, the run's own
       rules: that score is the one shown and the one a swap stores.
    3. Done if the scorer agrees with SQL on every row read (the SQL order is then the scorer's,
       ties by id included), or if the limit-th candidate beats what any unread attorney could
       score (SQL's last + SQL_SLACK). Otherwise floating point put a distance across a whole
       point somewhere: read twice as many, up to MAX_WINDOW.
    """
    cell = _cell(case)
    ranked = attorneys_ranked_for_case(
        case=case, cell=cell, weights=AFFINITY_WEIGHTS, today=timezone.localdate()
    ).select_related("user")
    window = max(FIRST_WINDOW, limit * 4)
    while True:
        attorneys = list(ranked[:window])
        scored = _scored(case, cell, attorneys)
        best = scored[:limit]
        sql = {a.pk: a.sql_affinity for a in attorneys}
        agrees = len(scored) == len(attorneys) and all(
            c.affinity == sql[c.attorney.pk] for c in scored
        )
        clear = len(best) == limit and best[-1].affinity > attorneys[-1].sql_affinity + SQL_SLACK
        if len(attorneys) < window or agrees or clear or window >= MAX_WINDOW:
            return best
        window *= 2


def _scored(
    case: CaseRequest, cell: CellFacts, attorneys: Sequence[AttorneyProfile]
) -> list[Candidate]:
    facts = _facts(attorneys)
    language_name = _name_of(case)  # once: it reads the case's other languages
    scored = []
    for attorney in attorneys:
        fact = facts[attorney.pk]
        if not eligibility(fact, cell).ok:
            continue  # only at the radius boundary, where the SQL test is a little generous
        parts = affinity(fact, cell)
        sentences = explain(parts, language_name=language_name, case_type_name=_type_of(case))
        scored.append(Candidate(attorney, parts, parts.total + max(case.priority, 0), sentences))
    scored.sort(key=lambda c: (-c.score, c.attorney.pk))
    return scored


def candidate_for_case(*, case: CaseRequest, attorney_id: int) -> Candidate | None:
    """The attorney as a candidate for this case, if eligible and never paired with it."""
    cell = _cell(case)
    ranked = attorneys_ranked_for_case(
        case=case, cell=cell, weights=AFFINITY_WEIGHTS, today=timezone.localdate()
    )
    found = _scored(case, cell, list(ranked.filter(pk=attorney_id).select_related("user")))
    return found[0] if found else None


def _cell(case: CaseRequest) -> CellFacts:
    relay = case.relay_language_id if case.relay_interpreter_ok else None
    others = [language.code for language in case.other_languages.all()]
    if not other_languages_matched():  # as the run sees the case (pipeline/load/cases.py)
        others = []
    return CellFacts(
        language=case.language_id,
        other_languages=other_languages_key(case.language_id, others),
        relay_language=relay,
        case_type=case.case_type_id,
        court_id=case.court_id,
        court_latitude=float(case.court.latitude),
        court_longitude=float(case.court.longitude),
        detained=case.detained,
        remote_ok=case.remote_ok,
    )


def _facts(attorneys: Sequence[AttorneyProfile]) -> dict[int, AttorneyFacts]:
    pks = [a.pk for a in attorneys]
    languages: dict[int, dict[str, int]] = {pk: {} for pk in pks}
    areas: dict[int, dict[str, int]] = {pk: {} for pk in pks}
    rows = AttorneyLanguage.objects.filter(attorney_id__in=pks)
    for pk, code, level in rows.values_list("attorney_id", "language_id", "proficiency"):
        languages[pk][code] = level
    areas_of = PracticeArea.objects.filter(attorney_id__in=pks)
    for pk, code, handled in areas_of.values_list("attorney_id", "case_type_id", "cases_handled"):
        areas[pk][code] = handled
    preferred, excluded = preference_types(pks)
    return {
        a.pk: AttorneyFacts(
            id=a.pk,
            languages=languages[a.pk],
            practice_areas=areas[a.pk],
            years_experience=a.years_experience,
            latitude=float(a.latitude),
            longitude=float(a.longitude),
            travel_radius_miles=a.travel_radius_miles,
            remote_ok=a.remote_ok,
            verified=True,
            available=True,
            free_capacity=a.capacity - a.active_cases,
            remote_preferred=a.remote_preferred,
            detained_ok=a.detained_ok,
            preferred_types=frozenset(preferred.get(a.pk, ())),
            excluded_types=frozenset(excluded.get(a.pk, ())),
        )
        for a in attorneys
    }


def _name_of(case: CaseRequest) -> Callable[[str], str]:
    names = {case.language_id: case.language.name}
    names.update((language.code, language.name) for language in case.other_languages.all())
    if case.relay_language is not None:
        names[case.relay_language.code] = case.relay_language.name
    return lambda code: names.get(code, code)


def _type_of(case: CaseRequest) -> Callable[[str], str]:
    return lambda code: case.case_type.name if code == case.case_type_id else code


# ---------------------------------------------------------------------------------------------
# The coordinator's ranking in SQL (next_best_attorneys reads it)

# Miles per radian of great-circle arc: matching.scoring.EARTH_RADIUS_MILES.
_RADIUS = 3958.8


class _Ranking(TypedDict):
    prefers_type: bool
    miles: float
    sql_affinity: int  # matching.scoring.affinity's total, in SQL


if TYPE_CHECKING:  # django-stubs' helper (a dev dependency): the attorney with the annotations
    from django_stubs_ext import WithAnnotations

    RankedAttorney = WithAnnotations[AttorneyProfile, _Ranking]


def attorneys_ranked_for_case(
    *, case: CaseRequest, cell: CellFacts, weights: AffinityWeights, today: date
) -> "QuerySet[RankedAttorney]":
    """Every attorney who passes the hard constraints for this case, best affinity first.

    The filters are matching.scoring.eligibility in SQL (verified, not paused, a free place,
    speaks one of the client's languages or the relay language, takes the case type, within the
    travel radius unless both sides accept remote work) plus "never paired with this case";
    ``sql_affinity`` is matching.scoring.affinity in SQL. The caller re-scores the rows it reads
    with the pure scorer: floating point may put a distance a hair either side of a whole point,
    so the SQL radius test is a little generous and the SQL score can be one point off.
    """
    # scoring._language_routes' order: main language, other languages (all direct), relay.
    routes: list[tuple[str, str, int]] = [("direct", cell.language, 100)]
    routes += [(f"other{i}", code, 100) for i, code in enumerate(cell.other_languages)]
    if cell.relay_language:
        routes.append(("relay", cell.relay_language, weights.relay_percent))
    relations = {
        f"speaks_{name}": FilteredRelation(
            "language_skills", condition=Q(language_skills__language_id=code)
        )
        for name, code, _ in routes
    }
    relations["area"] = FilteredRelation(
        "practice_area_links", condition=Q(practice_area_links__case_type_id=cell.case_type)
    )
    speaks = Q()
    for name, _, _ in routes:
        speaks |= Q(**{f"speaks_{name}__proficiency__gte": 1})
    miles = _miles_sql(cell.court_latitude, cell.court_longitude)
    within = Q(miles__lte=F("travel_radius_miles") + 0.01)
    if cell.remote_ok:
        within |= Q(remote_ok=True)
    preferences = Q() if not cell.detained else Q(detained_ok=True)  # scoring.eligibility
    types = AttorneyProfile.preferred_types.through.objects.filter(casetype_id=cell.case_type)
    excluded = AttorneyProfile.excluded_types.through.objects.filter(casetype_id=cell.case_type)
    return (
        AttorneyProfile.objects.annotate(**relations)
        .filter(preferences)
        .exclude(pk__in=excluded.values("attorneyprofile_id"))
        .annotate(prefers_type=Exists(types.filter(attorneyprofile_id=OuterRef("pk"))))
        .filter(
            Q(paused_until__isnull=True) | Q(paused_until__lte=today),
            speaks,
            Q(area__isnull=False),  # a Q: the type checker does not see FilteredRelation names
            verification=AttorneyProfile.Verification.VERIFIED,
            active_cases__lt=F("capacity"),
        )
        .exclude(pk__in=Match.objects.filter(case=case).values("attorney_id"))
        .annotate(miles=miles)
        .filter(within)
        .annotate(sql_affinity=_affinity_sql(routes, cell, weights))
        .order_by("-sql_affinity", "pk")
    )


def _miles_sql(latitude: float, longitude: float) -> Expression:
    """scoring.haversine_miles from the attorney to the court, operation for operation (the
    same IEEE doubles and libm functions, so in practice the same result to the bit)."""
    lat, lon = (Cast(F(name), FloatField()) for name in ("latitude", "longitude"))
    phi1, phi2 = Radians(lat), Radians(Value(latitude))
    dphi, dlambda = phi2 - phi1, Radians(Value(longitude) - lon)
    a = Power(Sin(dphi / 2), 2) + Cos(phi1) * Cos(phi2) * Power(Sin(dlambda / 2), 2)
    return ExpressionWrapper(
        Value(2 * _RADIUS) * ASin(Sqrt(Least(Value(1.0), a))), output_field=FloatField()
    )


def _affinity_sql(
    routes: list[tuple[str, str, int]], cell: CellFacts, weights: AffinityWeights
) -> Expression:
    """scoring.affinity's total: language + distance + experience + preference points."""
    integer = IntegerField()
    language = Greatest(
        *(
            Coalesce(
                Least(F(f"speaks_{name}__proficiency"), 4) * weights.language_per_level
                * percent / 100,
                0,
                output_field=integer,
            )
            for name, _, percent in routes
        ),
        Value(0),
    )  # fmt: skip
    half = weights.distance_half_miles
    near = Cast(
        Floor(Value(float(weights.distance_max * half)) / (half + Greatest(F("miles"), 0.0))),
        integer,
    )
    distance: Cast | Case = near
    if cell.remote_ok:
        # A remote-preferring attorney's remote points carry the bonus (booked as preference).
        remote = Value(weights.remote + weights.remote_preferred)
        distance = Case(
            When(remote_ok=True, remote_preferred=True, then=Greatest(near, remote)),
            When(remote_ok=True, then=Greatest(near, Value(weights.remote))),
            default=near,
        )
    cases = Greatest(Coalesce(F("area__cases_handled"), 0), 0)
    experience = weights.experience_max * cases / (cases + weights.experience_half_cases)
    years = Least(Greatest(F("years_experience"), 0) * weights.years_per_year, weights.years_max)
    preferred = Case(When(prefers_type=True, then=Value(weights.preferred_type)), default=Value(0))
    total = language + distance + experience + years + preferred
    return ExpressionWrapper(total, output_field=integer)


# Status check-ins (matching/checkins.py): who is due for an e-mail


def status_request_token_hash(token: str) -> str:
    """How a status link's token is found: its SHA-256, the only form the database keeps."""
    return hashlib.sha256(token.encode()).hexdigest()


# A request unanswered this long after its e-mail is reminded, once.
CHECKIN_REMIND_AFTER = timedelta(days=7)


def attorneys_due_for_reminder(*, now: datetime | None = None) -> list[int]:
    """Attorneys with a request sent CHECKIN_REMIND_AFTER ago, unanswered and not yet reminded."""
    now = now or timezone.now()
    return list(
        AttorneyProfile.objects.filter(
            Exists(
                StatusRequest.objects.filter(
                    match__attorney=OuterRef("pk"),
                    answered_at__isnull=True,
                    reminded_at__isnull=True,
                    notified_at__lte=now - CHECKIN_REMIND_AFTER,
                    expires_at__gt=now,
                    match__status=Match.Status.ACCEPTED,
                )
            )
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def attorneys_not_notified(*, created_before: datetime) -> list[int]:
    """Attorneys with a request whose e-mail never went out (the broker lost it: REL-2)."""
    return list(
        StatusRequest.objects.filter(
            answered_at__isnull=True,
            notified_at__isnull=True,
            created_at__lt=created_before,
            match__status=Match.Status.ACCEPTED,
        )
        .order_by()
        .values_list("match__attorney_id", flat=True)
        .distinct()
    )
