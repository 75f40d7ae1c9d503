"""What the attorney starts: a request for an open case from the opportunity board (issue 13),
and putting an accepted case back before its deadline."""

from datetime import datetime

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from cases.models import CaseRequest
from core.types import Actor
from matching.models import Match
from matching.pipeline.load.attorneys import offers_left_this_month
from matching.selectors import candidate_for_case
from matching.services.common import (
    MatchError,
    Status,
    attorney_check_available,
    attorney_lock,
    check_coordinator,
    check_owner,
    event,
    match_lock,
    match_return,
    reason_checked,
)
from matching.services.lifecycle import match_propose, offer_locked
from matching.services.swap import candidate_breakdown
from volunteers.models import AttorneyProfile


def match_request_by_attorney(*, case: CaseRequest, attorney: AttorneyProfile) -> Match:
    """The attorney asks for an open case from the opportunity board.

    1. The matcher's own rules decide (candidate_for_case: scoring.eligibility and affinity,
       never paired with this case before), so nothing the board shows is a second rule.
    2. match_propose writes a proposal flagged ``source=attorney`` under the usual locks:
       the one-active-match constraint and the capacity counter hold. Two attorneys asking for
       one case at once serialise on the case row; the second is refused with ``case_taken``.
    3. Under MATCHING_AUTO_APPROVE the proposal is offered at once; otherwise a coordinator
       reviews it in the queue. The conflict check, attestation and acceptance follow as for
       any offer.
    ``case`` needs its language, relay language, case type and court loaded (select_related).
    """
    attorney_check_available(attorney)
    if attorney.monthly_offer_cap is not None:  # as the run's loader counts it
        left = offers_left_this_month([attorney.pk], now=timezone.now()).get(attorney.pk, 0)
        if left <= 0:
            raise MatchError(
                "You have reached your monthly limit of new cases.", code="monthly_cap_reached"
            )
    chosen = candidate_for_case(case=case, attorney_id=attorney.pk)
    if chosen is None:
        raise MatchError("This case is not one you can take.", code="not_eligible")
    with transaction.atomic():
        try:
            match = match_propose(
                case=case,
                attorney=chosen.attorney,
                score=chosen.score,
                breakdown=candidate_breakdown(case, chosen, requested=True),
                actor=attorney.user,
                source=Match.Source.ATTORNEY,
            )
        except MatchError as error:
            if error.code == "case_not_open":
                raise MatchError(
                    "Another attorney has just asked for this case. Choose another one.",
                    code="case_taken",
                ) from error
            raise
        event(match, "match.requested", attorney.user)
        if match.status == Status.APPROVED:  # MATCHING_AUTO_APPROVE
            match = offer_locked(match_lock(match.pk), None)
    return match


def put_back_open(match: Match, *, now: datetime | None = None) -> bool:
    """Whether the attorney may still put this accepted case back."""
    now = now or timezone.now()
    deadline = match.put_back_until
    return match.status == Status.ACCEPTED and deadline is not None and deadline > now


def match_put_back(*, match: Match, user: User, reason: str) -> Match:
    """The attorney hands an accepted case back, with a reason, before its put-back deadline.

    The slot is freed and the case returns to the pool (open) for a run or another attorney's
    request; the pair stays recorded, so it is not proposed to this attorney again. Like a
    decline, it needs no verified profile: handing a case back must always be possible.
    """
    reason = reason_checked(reason)
    with transaction.atomic():
        attorney = attorney_lock(match.attorney_id)
        match = match_lock(match.pk)
        check_owner(attorney, user, verified=False)
        if match.status != Status.ACCEPTED:
            raise MatchError("Only an accepted case can be put back.", code="not_accepted")
        if not put_back_open(match):
            raise MatchError(
                "The deadline to put this case back has passed. Ask a coordinator.",
                code="put_back_closed",
            )
        match = match_return(match, reason=reason, trigger="put_back")
        # The reason is free text: it stays on the match, not in the log (SEC-23).
        event(match, "match.put_back", user)
    return match


def match_put_back_deadline_set(*, match: Match, until: datetime, actor: Actor) -> Match:
    """A coordinator moves the deadline until which the attorney may put the case back
    (``until`` in the past closes it)."""
    check_coordinator(actor)
    with transaction.atomic():
        match = match_lock(match.pk)
        if match.status != Status.ACCEPTED:
            raise MatchError("Only an accepted case has a put-back deadline.", code="not_accepted")
        match.put_back_until = until
        match.save(update_fields=["put_back_until"])
        event(match, "match.put_back_deadline_set", actor, until=until.isoformat())
    return match
