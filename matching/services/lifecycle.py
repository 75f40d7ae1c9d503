"""The offer's life: a proposal is approved (or rejected), offered, then accepted, declined or
left to expire; the attorney may withdraw a proposal of their own before it is offered."""

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from cases.models import CaseRequest
from core.types import Actor
from matching import followups
from matching.models import Match, MatchingRun
from matching.services.common import (
    CaseStatus,
    MatchError,
    Status,
    attorney_check_available,
    attorney_lock,
    case_move,
    check_coordinator,
    check_owner,
    event,
    match_lock,
    match_release,
    transition,
)
from volunteers.models import AttorneyProfile

REJECTABLE = (Status.PROPOSED, Status.APPROVED, Status.OFFERED)


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
        attorney = attorney_lock(attorney.pk)
        attorney_check_available(attorney)
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
        case_move(case.pk, to=CaseStatus.MATCHED, frm=[CaseStatus.OPEN])
        origin = {} if source == Match.Source.RUN else {"source": source}
        event(match, "match.proposed", actor, run=run.pk if run else None, score=score, **origin)
        if settings.MATCHING_AUTO_APPROVE:
            match = transition(match, Status.APPROVED)
            event(match, "match.approved", None, auto=True)
    return match


def match_approve(*, match: Match, actor: Actor) -> Match:
    """A coordinator approves a proposal; it can then be offered."""
    check_coordinator(actor)
    with transaction.atomic():
        match = match_lock(match.pk)
        if match.status != Status.PROPOSED:
            raise MatchError("Only a proposed match can be approved.", code="not_proposed")
        match = transition(match, Status.APPROVED)
        event(match, "match.approved", actor, auto=False)
    return match


def match_reject(*, match: Match, actor: Actor, reason: str) -> Match:
    """A coordinator ends a match before it is accepted; the case goes back to the pool."""
    check_coordinator(actor)
    reason = (reason or "").strip()
    if not reason:
        raise MatchError("Say why the match is rejected.", code="reason_required")
    if len(reason) > 1000:
        raise MatchError("The reason is too long.", code="reason_too_long")
    with transaction.atomic():
        attorney_lock(match.attorney_id)
        match = match_lock(match.pk)
        if match.status not in REJECTABLE:
            raise MatchError("This match can no longer be rejected.", code="not_rejectable")
        match = transition(match, Status.REJECTED, reject_reason=reason)
        match_release(match, trigger="rejected")
        # The reason is free text and may name people: it stays on the match, not in the log.
        event(match, "match.rejected", actor)
    return match


def match_offer(*, match: Match, actor: Actor) -> Match:
    """Offer an approved match to its attorney, who has MATCH_OFFER_TTL_HOURS to answer.

    The "new offer" email goes out from a Celery task enqueued after commit (REL-1): a rolled-back
    offer sends nothing. If the broker is down the offer still stands (the hook is robust) and the
    sweeper task re-enqueues the email later (REL-2): the match row is the source of truth.
    """
    check_coordinator(actor)
    with transaction.atomic():
        return offer_locked(match_lock(match.pk), actor)


def offer_locked(match: Match, actor: Actor) -> Match:
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
    match = transition(match, Status.OFFERED, offered_at=now, expires_at=expires_at)
    event(match, "match.offered", actor, expires_at=expires_at.isoformat())
    followups.offer_notify_on_commit(match_id=match.pk)
    return match


# The attorney's answer


def match_attest_no_conflict(*, match: Match, user: User) -> Match:
    """The offered attorney attests, after seeing the party names, that they have no conflict."""
    with transaction.atomic():
        match = match_lock(match.pk)
        check_owner(AttorneyProfile.objects.get(pk=match.attorney_id), user)
        _check_open_offer(match)
        if match.conflict_attested_at is None:  # attesting twice changes nothing
            match.conflict_attested_at = timezone.now()
            match.save(update_fields=["conflict_attested_at"])
            event(match, "match.conflict_attested", user)
    return match


def match_accept(*, match: Match, user: User) -> Match:
    """The offered attorney accepts after attesting; the case becomes represented.

    The slot was taken when the match was proposed, so the counter does not move. Concurrent
    clicks serialise on the attorney row and the second one finds the match no longer offered.
    """
    with transaction.atomic():
        attorney = attorney_lock(match.attorney_id)
        match = match_lock(match.pk)
        check_owner(attorney, user)
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
        match = transition(match, Status.ACCEPTED, responded_at=now, put_back_until=put_back_until)
        case_move(match.case_id, to=CaseStatus.REPRESENTED, frm=[CaseStatus.MATCHED])
        event(match, "match.accepted", user)
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
        attorney = attorney_lock(match.attorney_id)
        match = match_lock(match.pk)
        check_owner(attorney, user, verified=False)
        if match.status != Status.OFFERED:
            raise MatchError("This offer is no longer open.", code="not_offered")
        match = transition(
            match,
            Status.DECLINED,
            decline_reason=reason,
            decline_note=note,
            responded_at=timezone.now(),
        )
        match_release(match, trigger="declined")
        # The note is free text: it stays on the match, only the reason code goes to the log.
        event(match, "match.declined", user, reason=reason)
    return match


def match_withdraw_proposal(*, match: Match, user: User) -> Match:
    """The attorney's own proposal, not yet offered, goes back to matching (an account being
    deleted). The attorney never saw it, so nothing is declined: the case is simply open again
    and the pair stays recorded, so it is not proposed again."""
    with transaction.atomic():
        attorney = attorney_lock(match.attorney_id)
        match = match_lock(match.pk)
        check_owner(attorney, user, verified=False)
        if match.status not in (Status.PROPOSED, Status.APPROVED):
            raise MatchError(
                "Only a proposal not yet offered can be withdrawn.", code="not_proposal"
            )
        match = transition(match, Status.WITHDRAWN)
        match_release(match, trigger="withdrawn")
        event(match, "match.withdrawn", user, by="attorney")
    return match


# Time: an unanswered offer expires


def match_expire(*, match: Match) -> bool:
    """Expire an offer past its deadline. Returns whether this call expired it.

    Idempotent by construction: the conditional UPDATE claims the match only while it is still
    offered and overdue, so a second call (or a concurrent accept) changes nothing.
    """
    with transaction.atomic():
        attorney_lock(match.attorney_id)
        now = timezone.now()
        claimed = Match.objects.filter(
            pk=match.pk, status=Status.OFFERED, expires_at__lte=now
        ).update(status=Status.EXPIRED, status_changed_at=now)
        if claimed != 1:
            return False
        match_release(match, trigger="expired")
        event(match, "match.expired", None)
    return True


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


def _slot_take(attorney: AttorneyProfile) -> None:
    AttorneyProfile.objects.filter(pk=attorney.pk).update(active_cases=F("active_cases") + 1)
