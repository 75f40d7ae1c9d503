"""Match lifecycle services: every change of a match's state goes through here.

proposed → approved → offered → accepted | declined | expired; rejected and withdrawn end it too.
Each service validates, writes inside `transaction.atomic`, records one domain event and raises
`MatchError` with a stable `code`. They keep three invariants together:

- `AttorneyProfile.active_cases` equals the attorney's active matches. It changes only through
  `F()` updates on a row locked with `select_for_update()`; the database refuses a value above
  `capacity`.
- The case's status follows its match: open → matched (active match) → represented (accepted);
  declined, expired and rejected matches send it back to open.
- At most one active match per case and one match per (case, attorney) pair, ever.

Lock order, everywhere: attorney row, then match row, then case row. Services that lock in the
same order can wait for each other but never deadlock; concurrent clicks serialise on the attorney.
"""

from contextlib import suppress
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from cases.models import CaseRequest
from core.emails import email_send, site_link
from core.errors import DomainError
from core.models import DomainEvent
from core.roles import COORDINATOR_PERMISSION
from core.services import event_record
from core.types import Actor
from matching import followups
from matching.models import Match, MatchingRun
from matching.pipeline.load.attorneys import offers_left_this_month
from matching.selectors import Candidate, candidate_for_case
from volunteers.models import AttorneyProfile
from volunteers.selectors import offer_disclosure
from volunteers.timezones import attorney_localdate, attorney_paused, attorney_zone

Status = Match.Status
CaseStatus = CaseRequest.Status
REJECTABLE = (Status.PROPOSED, Status.APPROVED, Status.OFFERED)
SWAP_REASON = "swapped"


class MatchError(DomainError):
    code = "match_error"


# Proposal and coordinator review


def match_propose(
    *,
    case: CaseRequest,
    attorney: AttorneyProfile,
    score: int,
    breakdown: dict[str, Any],
    run: MatchingRun | None = None,
    actor: Actor = None,
    source: str = Match.Source.RUN,
) -> Match:
    """Propose one pairing: the case must be open, the attorney verified and below capacity.

    Two proposals for one case serialise on the case row: the second finds it matched and is
    refused with ``case_not_open`` (the partial unique constraint backs this up)."""
    if score <= 0:
        raise MatchError("A match needs a positive score.", code="invalid_score")
    with transaction.atomic():
        attorney = _attorney_lock(attorney.pk)
        _attorney_check_available(attorney)
        case = CaseRequest.objects.select_for_update().get(pk=case.pk)
        if case.status != CaseStatus.OPEN:
            raise MatchError("The case is not open.", code="case_not_open")
        if Match.objects.filter(case=case, attorney=attorney).exists():
            # One match per pair, ever: a declined or rejected pair is never proposed again.
            raise MatchError("This pair was matched before.", code="pair_exists")
        match = Match.objects.create(
            case=case, attorney=attorney, run=run, score=score, breakdown=breakdown, source=source
        )
        _slot_take(attorney)
        _case_move(case.pk, to=CaseStatus.MATCHED, frm=[CaseStatus.OPEN])
        origin = {} if source == Match.Source.RUN else {"source": source}
        _event(match, "match.proposed", actor, run=run.pk if run else None, score=score, **origin)
        if settings.MATCHING_AUTO_APPROVE:
            match = _transition(match, Status.APPROVED)
            _event(match, "match.approved", None, auto=True)
    return match


def match_approve(*, match: Match, actor: Actor) -> Match:
    """A coordinator approves a proposal; it can then be offered."""
    _check_coordinator(actor)
    with transaction.atomic():
        match = _match_lock(match.pk)
        if match.status != Status.PROPOSED:
            raise MatchError("Only a proposed match can be approved.", code="not_proposed")
        match = _transition(match, Status.APPROVED)
        _event(match, "match.approved", actor, auto=False)
    return match


def match_reject(*, match: Match, actor: Actor, reason: str) -> Match:
    """A coordinator ends a match before it is accepted; the case goes back to the pool."""
    _check_coordinator(actor)
    reason = (reason or "").strip()
    if not reason:
        raise MatchError("Say why the match is rejected.", code="reason_required")
    if len(reason) > 1000:
        raise MatchError("The reason is too long.", code="reason_too_long")
    with transaction.atomic():
        _attorney_lock(match.attorney_id)
        match = _match_lock(match.pk)
        if match.status not in REJECTABLE:
            raise MatchError("This match can no longer be rejected.", code="not_rejectable")
        match = _transition(match, Status.REJECTED, reject_reason=reason)
        _match_release(match, trigger="rejected")
        # The reason is free text and may name people: it stays on the match, not in the log.
        _event(match, "match.rejected", actor)
    return match


def match_offer(*, match: Match, actor: Actor) -> Match:
    """Offer an approved match to its attorney, who has MATCH_OFFER_TTL_HOURS to answer.

    The "new offer" email goes out from a Celery task enqueued after commit (REL-1): a rolled-back
    offer sends nothing. If the broker is down the offer still stands (the hook is robust) and the
    sweeper task re-enqueues the email later (REL-2): the match row is the source of truth.
    """
    _check_coordinator(actor)
    with transaction.atomic():
        return _offer(_match_lock(match.pk), actor)


def _offer(match: Match, actor: Actor) -> Match:
    """Offer a locked, approved match (the coordinator's offer, or an attorney's own request
    under MATCHING_AUTO_APPROVE)."""
    if match.status != Status.APPROVED:
        raise MatchError("Only an approved match can be offered.", code="not_approved")
    attorney = AttorneyProfile.objects.get(pk=match.attorney_id)
    if attorney.verification != AttorneyProfile.Verification.VERIFIED:
        raise MatchError("The attorney is not verified.", code="attorney_not_verified")
    now = timezone.now()
    ttl = timedelta(hours=settings.MATCH_OFFER_TTL_HOURS)
    expires_at = now + ttl
    match = _transition(match, Status.OFFERED, offered_at=now, expires_at=expires_at)
    _event(match, "match.offered", actor, expires_at=expires_at.isoformat())
    followups.offer_notify_on_commit(match_id=match.pk)
    return match


# The attorney's answer


def match_attest_no_conflict(*, match: Match, user: User) -> Match:
    """The offered attorney attests, after seeing the party names, that they have no conflict."""
    with transaction.atomic():
        match = _match_lock(match.pk)
        _check_owner(AttorneyProfile.objects.get(pk=match.attorney_id), user)
        _check_open_offer(match)
        if match.conflict_attested_at is None:  # attesting twice changes nothing
            match.conflict_attested_at = timezone.now()
            match.save(update_fields=["conflict_attested_at"])
            _event(match, "match.conflict_attested", user)
    return match


def match_accept(*, match: Match, user: User) -> Match:
    """The offered attorney accepts after attesting; the case becomes represented.

    The slot was taken when the match was proposed, so the counter does not move. Concurrent
    clicks serialise on the attorney row and the second one finds the match no longer offered.
    """
    with transaction.atomic():
        attorney = _attorney_lock(match.attorney_id)
        match = _match_lock(match.pk)
        _check_owner(attorney, user)
        _check_open_offer(match)
        if match.conflict_attested_at is None:
            raise MatchError("Attest to no conflict first.", code="conflict_not_attested")
        if not followups.team_ready(match_id=match.pk):
            raise MatchError(
                "The interpreter of this team has not accepted yet; you can accept once they do.",
                code="team_pending",
            )
        now = timezone.now()
        put_back_until = now + timedelta(days=settings.MATCH_PUT_BACK_DAYS)
        match = _transition(match, Status.ACCEPTED, responded_at=now, put_back_until=put_back_until)
        _case_move(match.case_id, to=CaseStatus.REPRESENTED, frm=[CaseStatus.MATCHED])
        _event(match, "match.accepted", user)
    return match


def match_decline(*, match: Match, user: User, reason: str, note: str = "") -> Match:
    """The offered attorney declines with a reason; the case goes back to the pool.

    The pair stays recorded, so matching never proposes it again. Unlike accepting, declining
    needs no verified profile: handing a case back reveals nothing and must always be possible
    (an attorney whose verification lapsed, an account being deleted).
    """
    note = (note or "").strip()
    _check_decline_reason(reason, note)
    with transaction.atomic():
        attorney = _attorney_lock(match.attorney_id)
        match = _match_lock(match.pk)
        _check_owner(attorney, user, verified=False)
        if match.status != Status.OFFERED:
            raise MatchError("This offer is no longer open.", code="not_offered")
        match = _transition(
            match,
            Status.DECLINED,
            decline_reason=reason,
            decline_note=note,
            responded_at=timezone.now(),
        )
        _match_release(match, trigger="declined")
        # The note is free text: it stays on the match, only the reason code goes to the log.
        _event(match, "match.declined", user, reason=reason)
    return match


def match_withdraw_proposal(*, match: Match, user: User) -> Match:
    """The attorney's own proposal, not yet offered, goes back to matching (an account being
    deleted). The attorney never saw it, so nothing is declined: the case is simply open again
    and the pair stays recorded, so it is not proposed again."""
    with transaction.atomic():
        attorney = _attorney_lock(match.attorney_id)
        match = _match_lock(match.pk)
        _check_owner(attorney, user, verified=False)
        if match.status not in (Status.PROPOSED, Status.APPROVED):
            raise MatchError(
                "Only a proposal not yet offered can be withdrawn.", code="not_proposal"
            )
        match = _transition(match, Status.WITHDRAWN)
        _match_release(match, trigger="withdrawn")
        _event(match, "match.withdrawn", user, by="attorney")
    return match


# After acceptance: the case closes with an outcome, or the attorney hands it back


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
        attorney = _attorney_lock(match.attorney_id)
        match = _match_lock(match.pk)
        _check_owner_or_coordinator(attorney, actor)
        if match.status != Status.ACCEPTED:
            raise MatchError("Only an accepted case can be closed.", code="not_accepted")
        _check_outcome_date(match, attorney, outcome_date)
        match = _transition(match, Status.COMPLETED)
        _slot_release(match.attorney_id)
        CaseRequest.objects.filter(pk=match.case_id, status=CaseStatus.REPRESENTED).update(
            status=CaseStatus.CLOSED,
            outcome=outcome,
            relief_type=relief_type if outcome == CaseRequest.Outcome.RELIEF_GRANTED else "",
            outcome_date=outcome_date,
            closed_at=timezone.now(),
            updated_at=timezone.now(),
        )
        _event(match, "case.closed", actor, outcome=outcome, relief_type=relief_type)
    return match


def match_hand_back(*, match: Match, actor: Actor, reason: str) -> Match:
    """An accepted case goes back to matching because the attorney cannot continue (said in a
    status update, matching.checkins) or a coordinator says so for them. Unlike
    ``match_put_back`` there is no deadline: an attorney who cannot go on is never held to a
    case. The same ending otherwise (``_match_return``): "returned", slot freed, case open,
    pair kept, and the match with its check-ins stays as the case's history."""
    reason = _reason_checked(reason)
    with transaction.atomic():
        attorney = _attorney_lock(match.attorney_id)
        match = _match_lock(match.pk)
        _check_owner_or_coordinator(attorney, actor)
        if match.status != Status.ACCEPTED:
            raise MatchError("Only an accepted case can be handed back.", code="not_accepted")
        match = _match_return(match, reason=reason, trigger="handed_back")
        # The reason is free text: it stays on the match, not in the log (SEC-23).
        _event(match, "match.handed_back", actor)
    return match


# Time and withdrawal


def match_expire(*, match: Match) -> bool:
    """Expire an offer past its deadline. Returns whether this call expired it.

    Idempotent by construction: the conditional UPDATE claims the match only while it is still
    offered and overdue, so a second call (or a concurrent accept) changes nothing.
    """
    with transaction.atomic():
        _attorney_lock(match.attorney_id)
        now = timezone.now()
        claimed = Match.objects.filter(
            pk=match.pk, status=Status.OFFERED, expires_at__lte=now
        ).update(status=Status.EXPIRED, status_changed_at=now)
        if claimed != 1:
            return False
        _match_release(match, trigger="expired")
        _event(match, "match.expired", None)
    return True


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


# The coordinator's swap: another attorney for a proposal not yet offered


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
            breakdown=_swap_breakdown(case, chosen),
            actor=actor,
            source=Match.Source.COORDINATOR,
        )


def _swap_breakdown(case: CaseRequest, chosen: Candidate, **flags: bool) -> dict[str, Any]:
    return {
        "affinity": chosen.breakdown.as_dict(),
        "priority": {"stored": max(case.priority, 0), **(case.priority_parts or {})},
        **(flags or {"swapped": True}),
    }


# The attorney's own requests and put-backs (the opportunity board, issue 13)


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
    _attorney_check_available(attorney)
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
                breakdown=_swap_breakdown(case, chosen, requested=True),
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
        _event(match, "match.requested", attorney.user)
        if match.status == Status.APPROVED:  # MATCHING_AUTO_APPROVE
            match = _offer(_match_lock(match.pk), None)
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
    reason = _reason_checked(reason)
    with transaction.atomic():
        attorney = _attorney_lock(match.attorney_id)
        match = _match_lock(match.pk)
        _check_owner(attorney, user, verified=False)
        if match.status != Status.ACCEPTED:
            raise MatchError("Only an accepted case can be put back.", code="not_accepted")
        if not put_back_open(match):
            raise MatchError(
                "The deadline to put this case back has passed. Ask a coordinator.",
                code="put_back_closed",
            )
        match = _match_return(match, reason=reason, trigger="put_back")
        # The reason is free text: it stays on the match, not in the log (SEC-23).
        _event(match, "match.put_back", user)
    return match


def _match_return(match: Match, *, reason: str, trigger: str) -> Match:
    """An accepted match ends as "returned" (put back from the board, or handed back from a
    check-in): the slot is freed and the case is open again for the next run. The caller holds
    the attorney and match locks."""
    match = _transition(match, Status.RETURNED, put_back_reason=reason)
    _slot_release(match.attorney_id)
    followups.team_end(match_id=match.pk)
    _case_move(match.case_id, to=CaseStatus.OPEN, frm=[CaseStatus.REPRESENTED])
    followups.matching_run_request(trigger=trigger)
    return match


def match_put_back_deadline_set(*, match: Match, until: datetime, actor: Actor) -> Match:
    """A coordinator moves the deadline until which the attorney may put the case back
    (``until`` in the past closes it)."""
    _check_coordinator(actor)
    with transaction.atomic():
        match = _match_lock(match.pk)
        if match.status != Status.ACCEPTED:
            raise MatchError("Only an accepted case has a put-back deadline.", code="not_accepted")
        match.put_back_until = until
        match.save(update_fields=["put_back_until"])
        _event(match, "match.put_back_deadline_set", actor, until=until.isoformat())
    return match


def _reason_checked(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise MatchError("Say why you put the case back.", code="reason_required")
    if len(reason) > 1000:
        raise MatchError("The reason is too long.", code="reason_too_long")
    return reason


# Notifications (called by the Celery tasks in matching/tasks/lifecycle.py)


def match_offer_notify(*, match_id: int) -> bool:
    """Email the attorney about a new offer, once. Returns whether an email was sent."""
    return _offer_email(match_id, template="match_offer", verb="match.offer_notified")


def match_offer_remind(*, match_id: int) -> bool:
    """Remind the attorney of an offer that expires soon, once. Returns whether one was sent."""
    return _offer_email(match_id, template="match_reminder", verb="match.reminded")


def offer_email_context(match: Match) -> dict[str, Any]:
    """What an offer email may say: the offer stage's own disclosure (volunteers.selectors
    .offer_disclosure, the record the offer page shows), so what an attorney may see before the
    conflict check is decided in one place (SEC-15, SEC-23). The templates show a part of it
    and can reach nothing else of the case."""
    offer = offer_disclosure(match=match)
    return {
        "offer": offer,
        "case": offer.case,
        "offer_url": site_link(reverse("volunteers:offer", args=[match.pk])),
    }


# Helpers


class _ActiveMatchChanged(Exception):
    """A proposal landed between reading the case's active match and locking the case."""


def _withdraw_once(case_id: int, actor: Actor) -> Match | None:
    with transaction.atomic():
        seen = _active_match(case_id)
        match = None
        if seen is not None:
            _attorney_lock(seen.attorney_id)
            match = _match_lock(seen.pk)
        case = CaseRequest.objects.select_for_update().get(pk=case_id)
        if case.status in (CaseStatus.CLOSED, CaseStatus.WITHDRAWN):
            raise MatchError("The case has already ended.", code="case_ended")
        if match is not None and not match.is_active:
            match = None  # it ended between the read and the lock
        current = _active_match(case_id)
        if (current.pk if current else None) != (match.pk if match else None):
            raise _ActiveMatchChanged  # rolls back; the caller starts over with the new match
        if match is not None:
            match = _transition(match, Status.WITHDRAWN)
            _slot_release(match.attorney_id)
            followups.team_end(match_id=match.pk)
            followups.matching_run_request(trigger="withdrawn")  # the attorney's slot is free again
            _event(match, "match.withdrawn", actor)
        _case_move(case_id, to=CaseStatus.WITHDRAWN, frm=[case.status])
        event_record(verb="case.withdrawn", actor=actor, target=case, data={"case": case_id})
    return match


def _active_match(case_id: int) -> Match | None:
    return Match.objects.filter(case_id=case_id, status__in=Match.ACTIVE_STATUSES).first()


def _offer_email(match_id: int, *, template: str, verb: str) -> bool:
    # The match row stays locked while the mail goes out, so two workers never both send it;
    # a failed send rolls the event back and a later run tries again (at least once, rarely twice).
    with transaction.atomic():
        match = (
            Match.objects.select_for_update(of=("self",))
            .select_related("case__language", "case__court", "case__case_type", "attorney__user")
            .filter(pk=match_id)
            .first()
        )
        if match is None or match.status != Status.OFFERED or _event_exists(match, verb):
            return False
        if match.expires_at is not None and match.expires_at <= timezone.now():
            return False
        email = match.attorney.user.email
        if not email:
            return False
        email_send(
            to=[email],
            template=template,
            context=offer_email_context(match),
            time_zone=attorney_zone(match.attorney),  # the deadline in the attorney's own zone
        )
        _event(match, verb, None)
    return True


def _event_exists(match: Match, verb: str) -> bool:
    match_type = ContentType.objects.get_for_model(Match)
    return DomainEvent.objects.filter(
        verb=verb, target_type=match_type, target_id=str(match.pk)
    ).exists()


def _attorney_lock(attorney_id: int) -> AttorneyProfile:
    return AttorneyProfile.objects.select_for_update().get(pk=attorney_id)


def _match_lock(match_id: int) -> Match:
    return Match.objects.select_for_update().get(pk=match_id)


def _attorney_check_available(attorney: AttorneyProfile) -> None:
    if attorney.verification != AttorneyProfile.Verification.VERIFIED:
        raise MatchError("The attorney is not verified.", code="attorney_not_verified")
    if attorney_paused(attorney):  # the attorney's own date, not the server's
        raise MatchError("The attorney is paused.", code="attorney_paused")
    if attorney.active_cases >= attorney.capacity:
        raise MatchError("The attorney is at capacity.", code="capacity_exceeded")


def _check_coordinator(actor: Actor) -> None:
    if actor is None or not actor.has_perm(COORDINATOR_PERMISSION):
        raise MatchError("Only a coordinator can do this.", code="not_permitted")


def _check_owner(attorney: AttorneyProfile, user: User, *, verified: bool = True) -> None:
    if user is None or attorney.user_id != user.pk:
        raise MatchError("This is not your match.", code="not_your_match")
    if verified and attorney.verification != AttorneyProfile.Verification.VERIFIED:
        raise MatchError("Your profile is not verified yet.", code="attorney_not_verified")


def _check_owner_or_coordinator(attorney: AttorneyProfile, actor: Actor) -> None:
    if not isinstance(actor, User):
        raise MatchError("This is not your match.", code="not_your_match")
    if actor.has_perm(COORDINATOR_PERMISSION):
        return
    _check_owner(attorney, actor, verified=False)


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


def _check_open_offer(match: Match) -> None:
    if match.status != Status.OFFERED:
        raise MatchError("This offer is no longer open.", code="not_offered")
    if match.expires_at is not None and match.expires_at <= timezone.now():
        # The expiry task may not have run yet; the deadline holds regardless.
        raise MatchError("This offer has expired.", code="offer_expired")


def _check_decline_reason(reason: str, note: str) -> None:
    if not reason:
        raise MatchError("Say why you decline.", code="reason_required")
    if reason not in Match.DeclineReason.values:
        raise MatchError("Unknown reason.", code="invalid_reason")
    if reason == Match.DeclineReason.OTHER and not note:
        raise MatchError("Add a note when the reason is 'other'.", code="note_required")
    if len(note) > 1000:
        raise MatchError("The note is too long.", code="note_too_long")


def _transition(match: Match, status: str, **fields: Any) -> Match:
    match.status = status
    match.status_changed_at = timezone.now()
    for name, value in fields.items():
        setattr(match, name, value)
    match.save(update_fields=["status", "status_changed_at", *fields])
    return match


def _slot_take(attorney: AttorneyProfile) -> None:
    AttorneyProfile.objects.filter(pk=attorney.pk).update(active_cases=F("active_cases") + 1)


def _slot_release(attorney_id: int) -> None:
    AttorneyProfile.objects.filter(pk=attorney_id).update(active_cases=F("active_cases") - 1)


def _match_release(match: Match, *, trigger: str) -> None:
    """An ended match frees the attorney's slot and returns its case to the pool, so it asks
    for a debounced matching run after commit (``trigger``: a word, never case data)."""
    _slot_release(match.attorney_id)
    followups.team_end(match_id=match.pk)
    _case_move(match.case_id, to=CaseStatus.OPEN, frm=[CaseStatus.MATCHED])
    followups.matching_run_request(trigger=trigger)


def _case_move(case_id: int, *, to: str, frm: list[str]) -> None:
    CaseRequest.objects.filter(pk=case_id, status__in=frm).update(
        status=to, updated_at=timezone.now()
    )


def _event(match: Match, verb: str, actor: Actor, **data: Any) -> None:
    """Ids and codes only: never a name, an A-number or free text (SEC-23)."""
    base = {"case": match.case_id, "attorney": match.attorney_id}
    event_record(verb=verb, actor=actor, target=match, data=base | data)
