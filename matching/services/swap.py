"""The coordinator's swap: another attorney for a proposal not yet offered."""

from typing import Any

from django.db import transaction

from cases.models import CaseRequest
from core.types import Actor
from matching.models import Match
from matching.selectors import Candidate, candidate_for_case
from matching.services.common import MatchError
from matching.services.lifecycle import match_propose, match_reject

SWAP_REASON = "swapped"


def match_swap(*, match: Match, attorney_id: int, actor: Actor) -> Match:
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
        chosen = candidate_for_case(case=case, attorney_id=attorney_id)
        if chosen is None:
            raise MatchError("That attorney cannot take this case.", code="not_eligible")
        return match_propose(
            case=case,
            attorney=chosen.attorney,
            score=chosen.score,
            breakdown=candidate_breakdown(case, chosen),
            actor=actor,
            source=Match.Source.COORDINATOR,
        )


def candidate_breakdown(case: CaseRequest, chosen: Candidate, **flags: bool) -> dict[str, Any]:
    return {
        "affinity": chosen.breakdown.as_dict(),
        "priority": {"stored": max(case.priority, 0), **(case.priority_parts or {})},
        **(flags or {"swapped": True}),
    }
