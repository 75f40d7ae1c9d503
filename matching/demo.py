"""Placements, check-ins and outcomes for the demo world (seed_demo), through the services.

Demo attorneys do not sign in (core.demo_volunteers lets a few, later), so their side (attest,
accept, answer, close) is played here with the same service calls their pages make. Only the
dates are moved back afterwards (plain updates of timestamps, demo history): a case accepted
months ago, a request e-mailed last week.
"""

import random
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from cases.models import CaseRequest
from matching.checkins import StatusAnswer, status_request_answer, status_requests_create
from matching.models import Match, StatusRequest
from matching.selectors import next_best_attorneys
from matching.services import (
    match_accept,
    match_approve,
    match_attest_no_conflict,
    match_case_close,
    match_offer,
    match_propose,
)

DEMO_PLACEMENTS = 100  # enough closed cases that the wall shows counts, not only dashes
Outcome, Relief = CaseRequest.Outcome, CaseRequest.Relief
# Roughly how represented cases end (DOMAIN.md): relief for about half, then terminations.
OUTCOME_WEIGHTS = {
    Outcome.RELIEF_GRANTED: 45, Outcome.TERMINATION: 15, Outcome.VOLUNTARY_DEPARTURE: 8,
    Outcome.REMOVAL_ORDERED: 12, Outcome.ADMIN_CLOSED: 10, Outcome.TRANSFERRED: 5,
    Outcome.WITHDRAWN: 5,
}  # fmt: skip
RELIEF_WEIGHTS = {
    Relief.ASYLUM: 50, Relief.WITHHOLDING: 10, Relief.CAT: 4, Relief.CANCELLATION: 10,
    Relief.ADJUSTMENT: 8, Relief.SIJS: 10, Relief.T_U_VISA: 6, Relief.OTHER: 2,
}  # fmt: skip


def followup_demo_seed(*, seed: int, coordinator) -> dict[str, int]:
    """Accepted cases with a history: some closed with an outcome, some asked for a status
    update (answered, waiting, reminded, asking for help). Idempotent: once any case was placed
    here, nothing is added."""
    if Match.objects.filter(status__in=Match.PLACED_STATUSES).exists():
        return {"placements": 0, "outcomes": 0, "check-ins": 0}
    rng = random.Random(seed + 16)  # noqa: S311 (demo data: reproducible, not secret)
    placed = _placements(rng, coordinator)
    split = len(placed) * 3 // 5  # three in five closed, the rest still open and asked about
    closed = _outcomes(rng, placed[:split])
    asked = _checkins(rng, placed[split:], coordinator)
    return {"placements": len(placed), "outcomes": closed, "check-ins": asked}


def _placements(rng: random.Random, coordinator) -> list[Match]:
    """Open cases offered to their best attorney, who accepts; accepted 20 to 200 days ago."""
    placed: list[Match] = []
    cases = CaseRequest.objects.filter(status=CaseRequest.Status.OPEN).select_related(
        "court", "language", "relay_language", "case_type"
    )
    for case in cases.order_by("pk")[: DEMO_PLACEMENTS * 3]:
        # Attorneys keep room for more: their offers and their opportunity board stay alive.
        roomy = [
            c
            for c in next_best_attorneys(case=case, limit=3)
            if c.attorney.capacity - c.attorney.active_cases >= 2
        ]
        if not roomy:
            continue
        match = _accept(case, roomy[0], coordinator)
        days = rng.randint(20, 200)
        Match.objects.filter(pk=match.pk).update(
            responded_at=F("responded_at") - timedelta(days=days),
            offered_at=F("offered_at") - timedelta(days=days),
            created_at=F("created_at") - timedelta(days=days),
        )
        placed.append(Match.objects.get(pk=match.pk))
        if len(placed) == DEMO_PLACEMENTS:
            break
    return placed


def _accept(case: CaseRequest, candidate, coordinator) -> Match:
    # As a run stores it: the facts, worded when viewed (matching.selectors.match_sentences).
    breakdown = {"affinity": candidate.breakdown.as_dict(), "demo": True}
    match = match_propose(
        case=case, attorney=candidate.attorney, score=max(candidate.score, 1), breakdown=breakdown
    )
    match_approve(match=match, actor=coordinator)
    match_offer(match=match, actor=coordinator)
    user = candidate.attorney.user
    match_attest_no_conflict(match=match, user=user)
    return match_accept(match=match, user=user)


def _outcomes(rng: random.Random, matches: list[Match]) -> int:
    today = timezone.localdate()
    for match in matches:
        outcome = _pick(rng, OUTCOME_WEIGHTS)
        relief = _pick(rng, RELIEF_WEIGHTS) if outcome == Outcome.RELIEF_GRANTED else ""
        # A day inside both edges: the service checks them in the attorney's own time zone.
        accepted = timezone.localdate(match.responded_at)
        ended = accepted + timedelta(days=rng.randint(1, max(1, (today - accepted).days - 1)))
        match_case_close(
            match=match,
            actor=match.attorney.user,
            outcome=outcome,
            relief_type=relief,
            outcome_date=ended,
        )
    return len(matches)


def _checkins(rng: random.Random, matches: list[Match], coordinator) -> int:
    """Asked about every remaining case; then a few answers, a week-old wait, a reminder."""
    status_requests_create(matches=matches, actor=coordinator)
    now = timezone.now()
    rows = list(StatusRequest.objects.filter(match__in=matches).order_by("pk"))
    for i, row in enumerate(rows):
        if i % 5 == 0:  # reminded a while ago, still waiting: on the coordinator home
            sent = now - timedelta(days=12)
            StatusRequest.objects.filter(pk=row.pk).update(
                created_at=sent, notified_at=sent, reminded_at=now - timedelta(days=4)
            )
        elif i % 5 == 1:
            note = "First merits hearing: could a mentor look at my witness outline?"
            _answer(row, StatusAnswer(answer="need_help", note=note))
        elif i % 5 == 2:
            _answer(row, StatusAnswer(answer="continued", hearing_date=_later(rng)))
        elif i % 5 == 3:
            _answer(row, StatusAnswer(answer="hearing_held", hearing_date=_later(rng)))
        else:
            StatusRequest.objects.filter(pk=row.pk).update(notified_at=now - timedelta(days=2))
    return len(rows)


def _answer(row: StatusRequest, answer: StatusAnswer) -> None:
    match = row.match
    status_request_answer(match=match, user=match.attorney.user, answer=answer, status_request=row)


def _later(rng: random.Random):
    return timezone.localdate() + timedelta(days=rng.randint(14, 180))


def _pick(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]
