"""Status check-ins on accepted cases (issue 16): the services for them.

A separate module beside the ``matching.services`` package; the same rules hold: typed
``<entity>_<verb>`` functions, writes inside ``transaction.atomic``, one domain event each, a
coded ``CheckInError`` on refusal.

1. A coordinator asks (admin action) or the monthly sweep asks: one ``StatusRequest`` per
   accepted match, at most one open per match (a database constraint).
2. After commit, one task per attorney sends ONE e-mail listing all their new requests, each
   with its own link (a random token; no id, no name in the link or the mail).
3. The attorney answers through the link or from the case page (signed in as themselves); the
   answer updates the case: next hearing, filing deadline, outcome (closed) or back to matching.
4. A request still unanswered REMIND_AFTER after its e-mail is reminded once; then it waits on
   the coordinator home.
"""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import salted_hmac

from cases.services import case_request_schedule_set
from cases.validation import FUTURE_DAYS
from core.emails import email_send, site_link
from core.errors import DomainError
from core.roles import COORDINATOR_PERMISSION
from core.services import event_record
from matching import followups
from matching.models import Match, StatusRequest
from matching.selectors import CHECKIN_REMIND_AFTER as REMIND_AFTER
from matching.selectors import status_request_token_hash as token_hash
from matching.services import match_case_close, match_hand_back
from volunteers.timezones import attorney_localdate, attorney_zone

Answer = StatusRequest.Answer
Trigger = StatusRequest.Trigger
LINK_TTL = timedelta(days=30)
# The monthly sweep asks about accepted cases with no update (acceptance or answer) this long.
STALE_AFTER = timedelta(days=60)
NOTE_MAX = 2000
_TOKEN_SALT = "matching.status_request"  # noqa: S105 (a salt, public by design)


class CheckInError(DomainError):
    code = "checkin_error"


@dataclass(frozen=True)
class RequestsMade:
    created: int
    skipped: int  # not accepted, or a request already waits for an answer
    attorneys: int


def status_requests_create(
    *, matches: Iterable[Match], actor, trigger: str = Trigger.COORDINATOR
) -> RequestsMade:
    """Ask the attorneys of ``matches`` for a status update; one e-mail per attorney follows
    after commit. Matches that are not accepted, or already have an open request, are skipped."""
    if trigger == Trigger.COORDINATOR and not (actor and actor.has_perm(COORDINATOR_PERMISSION)):
        raise CheckInError("Only a coordinator can ask for a status update.", code="not_permitted")
    ids = [m.pk for m in matches]
    created, attorneys = 0, set()
    with transaction.atomic():
        asked = _with_open_request(Match.objects.filter(pk__in=ids, status=Match.Status.ACCEPTED))
        for match in (
            asked.filter(open_request=False).order_by("pk").select_for_update(of=("self",))
        ):
            try:
                with transaction.atomic():  # a savepoint: the constraint may refuse this one
                    status_request = _request_new(match, trigger=trigger, actor=actor)
            except IntegrityError:
                continue  # another coordinator asked about this case at the same moment
            created += 1
            attorneys.add(match.attorney_id)
            event_record(
                verb="status_request.created",
                actor=actor,
                target=status_request,
                data={"match": match.pk, "case": match.case_id, "trigger": trigger},
            )
        for attorney_id in sorted(attorneys):
            followups.status_requests_notify_on_commit(attorney_id=attorney_id)
    return RequestsMade(created=created, skipped=len(ids) - created, attorneys=len(attorneys))


def status_requests_monthly(*, now: datetime | None = None) -> RequestsMade:
    """The monthly check-in: every accepted case with no update in STALE_AFTER and no open
    request gets one (the beat task calls this once a month)."""
    now = now or timezone.now()
    cutoff = now - STALE_AFTER
    last_answer = (
        StatusRequest.objects.filter(match=OuterRef("pk"), answered_at__isnull=False)
        .order_by()
        .values("match")
        .annotate(last=Max("answered_at"))
        .values("last")
    )
    stale = (
        Match.objects.filter(status=Match.Status.ACCEPTED, responded_at__lt=cutoff)
        .annotate(last_answer=last_answer)
        .filter(Q(last_answer__isnull=True) | Q(last_answer__lt=cutoff))
    )
    return status_requests_create(matches=list(stale), actor=None, trigger=Trigger.MONTHLY)


def status_request_token(status_request: StatusRequest) -> str:
    """The link's token: derived from the row's nonce with the secret key, so the reminder can
    repeat the link, while the database alone (which keeps only its hash) opens nothing."""
    return salted_hmac(_TOKEN_SALT, status_request.token_nonce, algorithm="sha256").hexdigest()


# E-mails (called by the tasks in matching/tasks/checkins.py)


def status_requests_notify(*, attorney_id: int) -> int:
    """E-mail the attorney every open request not yet sent, in one message; returns how many it
    listed. Rows stay locked while the mail goes out, so two workers never both send them."""
    return _requests_email(attorney_id, template="status_request", due=Q(notified_at__isnull=True))


def status_requests_remind(*, attorney_id: int, now: datetime | None = None) -> int:
    """Remind the attorney, once, of the requests sent REMIND_AFTER ago and still unanswered."""
    now = now or timezone.now()
    due = Q(notified_at__lte=now - REMIND_AFTER, reminded_at__isnull=True, expires_at__gt=now)
    return _requests_email(attorney_id, template="status_reminder", due=due, reminder=True)


def _requests_email(attorney_id: int, *, template: str, due: Q, reminder: bool = False) -> int:
    with transaction.atomic():
        rows = list(
            StatusRequest.objects.select_for_update(of=("self",))
            .filter(due, answered_at__isnull=True, match__attorney_id=attorney_id)
            .filter(match__status=Match.Status.ACCEPTED)
            .select_related("match__case__court", "match__case__case_type", "match__attorney__user")
            .order_by("pk")
        )
        if not rows or not rows[0].match.attorney.user.email:
            return 0
        attorney = rows[0].match.attorney
        email_send(
            to=[attorney.user.email],
            template=template,
            context={"requests": [_email_item(row) for row in rows], "count": len(rows)},
            time_zone=attorney_zone(attorney),
        )
        now = timezone.now()
        field = "reminded_at" if reminder else "notified_at"
        StatusRequest.objects.filter(pk__in=[r.pk for r in rows]).update(**{field: now})
        verb = "status_request.reminded" if reminder else "status_request.notified"
        event_record(
            verb=verb,
            actor=None,
            target=attorney,
            data={"attorney": attorney_id, "requests": [r.pk for r in rows]},
        )
    return len(rows)


def _email_item(row: StatusRequest) -> dict[str, Any]:
    """What the mail may say of a case: its public reference, court, type and hearing date;
    never a name, an A-number or a contact route (SEC-23)."""
    case = row.match.case
    return {
        "reference": case.reference,
        "court": f"{case.court.name}, {case.court.state}",
        "case_type": case.case_type.name,
        "hearing_date": case.next_hearing_date,
        "url": site_link(reverse("volunteers:status_link", args=[status_request_token(row)])),
    }


# The attorney's answer


@dataclass(frozen=True)
class StatusAnswer:
    """What the form (volunteers.forms.StatusUpdateForm) collected; the service checks it."""

    answer: str
    note: str = ""
    hearing_date: date | None = None
    filing_deadline: date | None = None
    outcome: str = ""
    relief_type: str = ""
    outcome_date: date | None = None


def status_request_answer(
    *, match: Match, user, answer: StatusAnswer, status_request: StatusRequest | None = None
) -> StatusRequest:
    """Record the attorney's status update and apply it to the case.

    With ``status_request`` (the e-mailed link) that request is answered; without (the case
    page) the open request, if any, is answered, else a new answered row records the update.
    Refusals are coded (``CheckInError``/``MatchError``), and write nothing.
    """
    note = (answer.note or "").strip()
    _check_answer(answer, note)
    with transaction.atomic():
        row = _open_request_lock(match, status_request)
        match = Match.objects.select_related("case", "attorney").get(pk=match.pk)
        if match.status != Match.Status.ACCEPTED or match.attorney.user_id != user.pk:
            raise CheckInError("This case is no longer yours to update.", code="not_accepted")
        _apply(match, user, answer, note)
        if row is None:
            row = _request_new(match, trigger=Trigger.ATTORNEY, actor=user)
        row.answer, row.note, row.answered_at = answer.answer, note, timezone.now()
        row.save(update_fields=["answer", "note", "answered_at"])
        # The answer's code only: the note is free text and stays on the row (SEC-23).
        event_record(
            verb="status_request.answered",
            actor=user,
            target=row,
            data={"match": match.pk, "case": match.case_id, "answer": answer.answer},
        )
    return row


def _check_answer(answer: StatusAnswer, note: str) -> None:
    if answer.answer not in Answer.values:
        raise CheckInError("Choose what happened.", code="answer_required")
    if len(note) > NOTE_MAX:
        raise CheckInError("The note is too long.", code="note_too_long")
    if answer.answer == Answer.NEED_HELP and not note:
        raise CheckInError("Say what help you need.", code="note_required")
    if answer.answer == Answer.CONTINUED and answer.hearing_date is None:
        raise CheckInError("Give the date the hearing was continued to.", code="date_required")


def _apply(match: Match, user, answer: StatusAnswer, note: str) -> None:
    """One answer, one change to the case (need help changes nothing: a coordinator reads it)."""
    today = attorney_localdate(match.attorney)
    case = match.case
    if answer.answer in (Answer.HEARING_HELD, Answer.CONTINUED):
        _check_future(answer.hearing_date, today, field="hearing_date")
        case_request_schedule_set(
            case_request=case, actor=user, next_hearing_date=answer.hearing_date
        )
    elif answer.answer == Answer.APPLICATION_FILED:
        _check_future(answer.filing_deadline, today, field="filing_deadline")
        case_request_schedule_set(
            case_request=case, actor=user, filing_deadline=answer.filing_deadline
        )
    elif answer.answer == Answer.CLOSED:
        match_case_close(
            match=match,
            actor=user,
            outcome=answer.outcome,
            relief_type=answer.relief_type,
            outcome_date=answer.outcome_date,
        )
    elif answer.answer == Answer.CANNOT_CONTINUE:
        match_hand_back(match=match, actor=user, reason=note[:1000] or "Cannot continue.")


def _check_future(day: date | None, today: date, *, field: str) -> None:
    if day is None:
        return
    if day <= today:
        raise CheckInError("The date must be after today.", code=f"{field}_past")
    if day > today + timedelta(days=FUTURE_DAYS):
        raise CheckInError("The date is too far ahead; check the year.", code=f"{field}_far")


def _open_request_lock(match: Match, given: StatusRequest | None) -> StatusRequest | None:
    row = (
        StatusRequest.objects.select_for_update()
        .filter(match_id=match.pk, answered_at__isnull=True)
        .first()
    )
    if given is not None and (row is None or row.pk != given.pk):
        raise CheckInError("This request was answered already.", code="already_answered")
    return row


def _request_new(match: Match, *, trigger: str, actor) -> StatusRequest:
    nonce = secrets.token_hex(32)
    row = StatusRequest(
        match=match,
        trigger=trigger,
        requested_by=actor if getattr(actor, "is_authenticated", False) else None,
        token_nonce=nonce,
        expires_at=timezone.now() + LINK_TTL,
    )
    row.token_hash = token_hash(status_request_token(row))
    row.save(force_insert=True)
    return row


def _with_open_request(matches):
    open_requests = StatusRequest.objects.filter(match=OuterRef("pk"), answered_at__isnull=True)
    return matches.annotate(open_request=Exists(open_requests))
