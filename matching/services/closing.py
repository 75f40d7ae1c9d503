"""How an accepted match ends after the fact: the case closes with an outcome, or goes back to
matching because the attorney cannot continue; and the case request's withdrawal, which ends
whatever match it has."""

from contextlib import suppress
from datetime import date

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from cases.models import CaseRequest
from core.roles import COORDINATOR_PERMISSION
from core.services import event_record
from core.types import Actor
from matching import followups
from matching.models import Match
from matching.services.common import (
    CaseStatus,
    MatchError,
    Status,
    attorney_lock,
    case_move,
    check_owner,
    event,
    match_lock,
    match_return,
    reason_checked,
    slot_release,
    transition,
)
from volunteers.models import AttorneyProfile
from volunteers.timezones import attorney_localdate, attorney_zone


def match_case_close(
    *, match: Match, actor: Actor, outcome: str, outcome_date: date | None, relief_type: str = ""
) -> Match:
    """Record how an accepted case ended: the case closes with its outcome and date, the match
    completes and the attorney's slot is free again.

    ``actor``: the match's attorney, or a coordinator. The date may not be in the future nor
    before the attorney accepted (the attorney's own today, their time zone).
    """
    _check_outcome(outcome, relief_type)
    with transaction.atomic():
        attorney = attorney_lock(match.attorney_id)
        match = match_lock(match.pk)
        _check_owner_or_coordinator(attorney, actor)
        if match.status != Status.ACCEPTED:
            raise MatchError("Only an accepted case can be closed.", code="not_accepted")
        _check_outcome_date(match, attorney, outcome_date)
        match = transition(match, Status.COMPLETED)
        slot_release(match.attorney_id)
        CaseRequest.objects.filter(pk=match.case_id, status=CaseStatus.REPRESENTED).update(
            status=CaseStatus.CLOSED,
            outcome=outcome,
            relief_type=relief_type if outcome == CaseRequest.Outcome.RELIEF_GRANTED else "",
            outcome_date=outcome_date,
            closed_at=timezone.now(),
            updated_at=timezone.now(),
        )
        event(match, "case.closed", actor, outcome=outcome, relief_type=relief_type)
    return match


def match_hand_back(*, match: Match, actor: Actor, reason: str) -> Match:
    """An accepted case goes back to matching because the attorney cannot continue (said in a
    status update, matching.checkins) or a coordinator says so for them. Unlike
    ``match_put_back`` there is no deadline: an attorney who cannot go on is never held to a
    case. The same ending otherwise (``match_return``): "returned", slot freed, case open,
    pair kept, and the match with its check-ins stays as the case's history."""
    reason = reason_checked(reason)
    with transaction.atomic():
        attorney = attorney_lock(match.attorney_id)
        match = match_lock(match.pk)
        _check_owner_or_coordinator(attorney, actor)
        if match.status != Status.ACCEPTED:
            raise MatchError("Only an accepted case can be handed back.", code="not_accepted")
        match = match_return(match, reason=reason, trigger="handed_back")
        # The reason is free text: it stays on the match, not in the log (SEC-23).
        event(match, "match.handed_back", actor)
    return match


def match_withdraw_for_case(*, case: CaseRequest, actor: Actor) -> Match | None:
    """Withdraw a case request: its active match (if any) is withdrawn, the slot freed.

    This is the case withdrawal itself (cases' `case_request_withdraw` can delegate here): it
    records "match.withdrawn" for the match and "case.withdrawn" for the case. Returns the
    withdrawn match, or None when the case had no active match.
    """
    for _attempt in range(3):
        with suppress(_ActiveMatchChanged):
            return _withdraw_once(case.pk, actor)
    raise MatchError("The case is changing; try again.", code="concurrent_change")


def _check_owner_or_coordinator(attorney: AttorneyProfile, actor: Actor) -> None:
    if not isinstance(actor, User):
        raise MatchError("This is not your match.", code="not_your_match")
    if actor.has_perm(COORDINATOR_PERMISSION):
        return
    check_owner(attorney, actor, verified=False)


def _check_outcome(outcome: str, relief_type: str) -> None:
    if outcome not in CaseRequest.Outcome.values:
        raise MatchError("Choose the outcome.", code="outcome_required")
    relief = outcome == CaseRequest.Outcome.RELIEF_GRANTED
    if relief and relief_type not in CaseRequest.Relief.values:
        raise MatchError("Say which relief was granted.", code="relief_type_required")
    if not relief and relief_type:
        raise MatchError("A relief type goes with relief granted only.", code="relief_type_unused")


def _check_outcome_date(match: Match, attorney: AttorneyProfile, day: date | None) -> None:
    if day is None:
        raise MatchError("Give the date the case ended.", code="date_required")
    if day > attorney_localdate(attorney):
        raise MatchError("The date cannot be in the future.", code="future_date")
    accepted = match.responded_at or match.created_at
    if day < timezone.localtime(accepted, attorney_zone(attorney)).date():
        raise MatchError("The date is before you accepted the case.", code="before_acceptance")


class _ActiveMatchChanged(Exception):
    """A proposal landed between reading the case's active match and locking the case."""


def _withdraw_once(case_id: int, actor: Actor) -> Match | None:
    with transaction.atomic():
        seen = _active_match(case_id)
        match = None
        if seen is not None:
            attorney_lock(seen.attorney_id)
            match = match_lock(seen.pk)
        case = CaseRequest.objects.select_for_update().get(pk=case_id)
        if case.status in (CaseStatus.CLOSED, CaseStatus.WITHDRAWN):
            raise MatchError("The case has already ended.", code="case_ended")
        if match is not None and not match.is_active:
            match = None  # it ended between the read and the lock
        current = _active_match(case_id)
        if (current.pk if current else None) != (match.pk if match else None):
            raise _ActiveMatchChanged  # rolls back; the caller starts over with the new match
        if match is not None:
            match = transition(match, Status.WITHDRAWN)
            slot_release(match.attorney_id)
            followups.team_end(match_id=match.pk)
            followups.matching_run_request(trigger="withdrawn")  # the attorney's slot is free again
            event(match, "match.withdrawn", actor)
        case_move(case_id, to=CaseStatus.WITHDRAWN, frm=[case.status])
        event_record(verb="case.withdrawn", actor=actor, target=case, data={"case": case_id})
    return match


def _active_match(case_id: int) -> Match | None:
    return Match.objects.filter(case_id=case_id, status__in=Match.ACTIVE_STATUSES).first()
