"""The coordinator's match detail: reading a stored breakdown, the next best attorneys, the swap.

Reads only, apart from `match_swap`, which calls the lifecycle services (STYLE 3).
"""

from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from cases.models import CaseRequest
from matching.models import Match
from matching.pipeline.load import other_languages_matched
from matching.scoring import (
    AFFINITY_WEIGHTS,
    AffinityBreakdown,
    AttorneyFacts,
    CellFacts,
    Constraint,
    affinity,
    eligibility,
    explain,
    other_languages_key,
)
from matching.selectors import attorneys_ranked_for_case
from matching.services import MatchError, match_propose, match_reject
from volunteers.models import AttorneyLanguage, AttorneyProfile, PracticeArea

NEXT_BEST_LIMIT = 5
# Rows read, at first, from the SQL ranking of every eligible attorney; doubled when floating
# point leaves the cut-off in doubt (see next_best_attorneys).
FIRST_WINDOW = 50
# How far the SQL affinity may be from matching.scoring's: a distance a hair across a whole point.
SQL_SLACK = 1
MAX_WINDOW = 3200
SWAP_REASON = "swapped"

CONSTRAINT_WORDS = {
    Constraint.NOT_VERIFIED: "The attorney's bar admission is verified",
    Constraint.UNAVAILABLE: "The attorney is not paused",
    Constraint.NO_CAPACITY: "The attorney had free capacity",
    Constraint.LANGUAGE: "The attorney speaks the client's language (or the relay language)",
    Constraint.CASE_TYPE: "The attorney takes this case type",
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


def match_explanation(match: Match) -> dict[str, Any]:
    """The stored breakdown in words: sentences, points per part, priority parts."""
    breakdown = match.breakdown or {}
    parts = breakdown.get("affinity") or {}
    priority = breakdown.get("priority") or {}
    return {
        "sentences": breakdown.get("explanation") or [],
        "points": [
            (label, parts[key])
            for key, label in (
                ("language", "language"),
                ("distance", "distance"),
                ("experience", "experience"),
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
    miles = (match.breakdown or {}).get("affinity", {}).get("miles")
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


def _scored(case: CaseRequest, cell: CellFacts, attorneys: list) -> list[Candidate]:
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


def _one_candidate(case: CaseRequest, attorney_id: int) -> Candidate | None:
    """The attorney as a candidate for this case, if eligible and never paired with it."""
    cell = _cell(case)
    ranked = attorneys_ranked_for_case(
        case=case, cell=cell, weights=AFFINITY_WEIGHTS, today=timezone.localdate()
    )
    found = _scored(case, cell, list(ranked.filter(pk=attorney_id).select_related("user")))
    return found[0] if found else None


def match_swap(*, match: Match, attorney_id: int, actor) -> Match:
    """Reject the current proposal ("swapped") and propose the chosen attorney, atomically.

    Either both happen or neither: a refusal of the new proposal rolls the rejection back.
    """
    if match.status not in (Match.Status.PROPOSED, Match.Status.APPROVED):
        # An offer already sent is the attorney's to answer; swapping it would pull it silently.
        raise MatchError("Only a proposal not yet offered can be swapped.", code="not_swappable")
    with transaction.atomic():
        match_reject(match=match, actor=actor, reason=SWAP_REASON)
        case = CaseRequest.objects.select_related(
            "language", "relay_language", "case_type", "court"
        ).get(pk=match.case_id)
        chosen = _one_candidate(case, attorney_id)
        if chosen is None:
            raise MatchError("That attorney cannot take this case.", code="not_eligible")
        return match_propose(
            case=case,
            attorney=chosen.attorney,
            score=chosen.score,
            breakdown=_breakdown(case, chosen),
            actor=actor,
        )


def _breakdown(case: CaseRequest, chosen: Candidate) -> dict[str, Any]:
    return {
        "affinity": chosen.breakdown.as_dict(),
        "priority": {"stored": max(case.priority, 0), **(case.priority_parts or {})},
        "explanation": chosen.sentences,
        "swapped": True,
    }


def _cell(case: CaseRequest) -> CellFacts:
    relay = case.relay_language_id if case.relay_interpreter_ok else None
    others = [language.code for language in case.other_languages.all()]
    if not other_languages_matched():  # as the run sees the case (pipeline/load.py)
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


def _facts(attorneys: list[AttorneyProfile]) -> dict[int, AttorneyFacts]:
    pks = [a.pk for a in attorneys]
    languages: dict[int, dict[str, int]] = {pk: {} for pk in pks}
    areas: dict[int, dict[str, int]] = {pk: {} for pk in pks}
    rows = AttorneyLanguage.objects.filter(attorney_id__in=pks)
    for pk, code, level in rows.values_list("attorney_id", "language_id", "proficiency"):
        languages[pk][code] = level
    rows = PracticeArea.objects.filter(attorney_id__in=pks)
    for pk, code, handled in rows.values_list("attorney_id", "case_type_id", "cases_handled"):
        areas[pk][code] = handled
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
        )
        for a in attorneys
    }


def _name_of(case: CaseRequest):
    names = {case.language_id: case.language.name}
    names.update((language.code, language.name) for language in case.other_languages.all())
    if case.relay_language_id:
        names[case.relay_language_id] = case.relay_language.name
    return lambda code: names.get(code, code)


def _type_of(case: CaseRequest):
    return lambda code: case.case_type.name if code == case.case_type_id else code
