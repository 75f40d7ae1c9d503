"""What the match services share: the error, the row locks, the permission checks, the state
moves and the domain event. Package-internal: callers import from ``matching.services``.
"""

from typing import Any

from django.contrib.auth.models import User
from django.db.models import F
from django.utils import timezone

from cases.models import CaseRequest
from core.errors import DomainError
from core.roles import COORDINATOR_PERMISSION
from core.services import event_record
from core.types import Actor
from matching import followups
from matching.models import Match
from volunteers.models import AttorneyProfile
from volunteers.timezones import attorney_paused

Status = Match.Status
CaseStatus = CaseRequest.Status


class MatchError(DomainError):
    code = "match_error"


def attorney_lock(attorney_id: int) -> AttorneyProfile:
    return AttorneyProfile.objects.select_for_update().get(pk=attorney_id)


def match_lock(match_id: int) -> Match:
    return Match.objects.select_for_update().get(pk=match_id)


def attorney_check_available(attorney: AttorneyProfile) -> None:
    if attorney.verification != AttorneyProfile.Verification.VERIFIED:
        raise MatchError("The attorney is not verified.", code="attorney_not_verified")
    if attorney_paused(attorney):  # the attorney's own date, not the server's
        raise MatchError("The attorney is paused.", code="attorney_paused")
    if attorney.active_cases >= attorney.capacity:
        raise MatchError("The attorney is at capacity.", code="capacity_exceeded")


def check_coordinator(actor: Actor) -> None:
    if actor is None or not actor.has_perm(COORDINATOR_PERMISSION):
        raise MatchError("Only a coordinator can do this.", code="not_permitted")


def check_owner(attorney: AttorneyProfile, user: User, *, verified: bool = True) -> None:
    if user is None or attorney.user_id != user.pk:
        raise MatchError("This is not your match.", code="not_your_match")
    if verified and attorney.verification != AttorneyProfile.Verification.VERIFIED:
        raise MatchError("Your profile is not verified yet.", code="attorney_not_verified")


def reason_checked(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise MatchError("Say why you put the case back.", code="reason_required")
    if len(reason) > 1000:
        raise MatchError("The reason is too long.", code="reason_too_long")
    return reason


def transition(match: Match, status: str, **fields: Any) -> Match:
    match.status = status
    match.status_changed_at = timezone.now()
    for name, value in fields.items():
        setattr(match, name, value)
    match.save(update_fields=["status", "status_changed_at", *fields])
    return match


def slot_release(attorney_id: int) -> None:
    AttorneyProfile.objects.filter(pk=attorney_id).update(active_cases=F("active_cases") - 1)


def match_release(match: Match, *, trigger: str) -> None:
    """An ended match frees the attorney's slot and returns its case to the pool, so it asks
    for a debounced matching run after commit (``trigger``: a word, never case data)."""
    slot_release(match.attorney_id)
    followups.team_end(match_id=match.pk)
    case_move(match.case_id, to=CaseStatus.OPEN, frm=[CaseStatus.MATCHED])
    followups.matching_run_request(trigger=trigger)


def match_return(match: Match, *, reason: str, trigger: str) -> Match:
    """An accepted match ends as "returned" (put back from the board, or handed back from a
    check-in): the slot is freed and the case is open again for the next run. The caller holds
    the attorney and match locks."""
    match = transition(match, Status.RETURNED, put_back_reason=reason)
    slot_release(match.attorney_id)
    followups.team_end(match_id=match.pk)
    case_move(match.case_id, to=CaseStatus.OPEN, frm=[CaseStatus.REPRESENTED])
    followups.matching_run_request(trigger=trigger)
    return match


def case_move(case_id: int, *, to: str, frm: list[str]) -> None:
    CaseRequest.objects.filter(pk=case_id, status__in=frm).update(
        status=to, updated_at=timezone.now()
    )


def event(match: Match, verb: str, actor: Actor, **data: Any) -> None:
    """Ids and codes only: never a name, an A-number or free text (SEC-23)."""
    base = {"case": match.case_id, "attorney": match.attorney_id}
    event_record(verb=verb, actor=actor, target=match, data=base | data)
