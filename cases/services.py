"""Every write to a case request. Intake (admin, partner form, import) goes through here.

Nothing here logs or records a name, an A-number or a contact route: log lines and events name
the public reference and field names only (SEC-23, SEC-24).
"""

import json
import logging
import unicodedata
from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import Any, Literal
from uuid import UUID

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django.utils.formats import time_format

from cases.crypto import a_number_hash, is_unreadable
from cases.identifiers import InvalidANumber, normalize_a_number
from cases.models import CaseRequest, Language, PartnerMembership
from cases.priority import case_priority
from cases.signals import case_request_review_due
from cases.validation import CaseRequestInvalid, ReferenceCache, case_request_clean
from core.errors import DomainError
from core.roles import partner_intake_group_sync
from core.services import event_record
from core.types import Actor
from volunteers.models import Organization

logger = logging.getLogger(__name__)

IDENTIFIER_FIELDS = ("respondent_name", "a_number", "contact_route")
VIEW_IDENTIFIERS = "cases.view_identifiers"
# Cases whose priority still matters to matching; the rest keep their last value.
ACTIVE_STATUSES = (CaseRequest.Status.OPEN, CaseRequest.Status.MATCHED)
_EARLIER_ROW = ""  # in case_request_check's ``taken``: seen earlier in the same batch
# A request without an A-number that repeats one recorded this recently (by the same partner
# organization, or the same coordinator) is taken for the form sent again (Back, then Send: the
# page is never cached, so it comes with a new one-time token) until the user says it is another
# person (case_request_repeat_check).
REQUEST_REPEAT_WINDOW = timedelta(minutes=15)
FORM_USED = "This form was already used. Reload the page and enter the request."


class DuplicateANumber(CaseRequestInvalid):
    code = "duplicate_a_number"

    def __init__(self, *, existing_reference: str, show_reference: bool):
        message = "A case request with this A-number already exists"
        message += f": {existing_reference}." if show_reference else "; ask a coordinator."
        super().__init__({"a_number": [message]})
        self.existing_reference = existing_reference


class RequestJustRecorded(CaseRequestInvalid):
    """The same person's request was just recorded (case_request_repeat_check). The message goes
    with the form's ``again`` box ("This is a different person"); it names the earlier request's
    reference and time, never the name."""

    code = "just_recorded"

    def __init__(self, *, earlier: CaseRequest):
        recorded = timezone.localtime(earlier.created_at)
        minutes = max(1, round((timezone.now() - recorded).total_seconds() / 60))
        ago = "a minute" if minutes == 1 else f"{minutes} minutes"
        message = (
            f"A request for this person (the same name, court, case type and language) was "
            f"recorded at {time_format(recorded)}, {ago} ago, as {earlier.reference}. If this is "
            'a different person, tick "This is a different person" and send again.'
        )
        super().__init__({"again": [message]})
        self.existing_reference = earlier.reference


def case_request_create(
    *,
    data: dict[str, Any],
    created_by: Actor,
    source: str,
    organization: Organization | None = None,
    refs: ReferenceCache | None = None,
    request_run: bool = True,
    duplicate_of: CaseRequest | None = None,
    submission_token: UUID | None = None,
) -> CaseRequest:
    """Validate, refuse a duplicate A-number, store with its priority, record the event.

    The unique constraint on the keyed hash is the duplicate check (no lookup first: a bulk
    import calls this thousands of times); on a violation the lookup finds the reference.
    A new open case asks for a debounced matching run after commit; a bulk import passes
    ``request_run=False`` and asks once for the whole file (cases/importing.py).
    With ``duplicate_of`` (case_request_submit_by_partner) the request is stored for review
    instead: no hash, out of matching, coordinators alerted. ``submission_token`` is stored
    for the forms' resends (case_request_submit_by_partner, case_request_create_by_coordinator;
    unique: a second insert with it fails).
    """
    cleaned = case_request_clean(data, refs=refs)
    other_languages = cleaned.pop("other_languages")
    a_hash = a_number_hash(cleaned["a_number"]) if cleaned["a_number"] else None
    case = CaseRequest(
        **cleaned,
        a_number_hash=a_hash if duplicate_of is None else None,
        source=source,
        organization=organization,
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,
        submission_token=submission_token,
    )
    if duplicate_of is not None:
        case.status, case.duplicate_of = CaseRequest.Status.REVIEW, duplicate_of
        request_run = False
    _set_priority(case, today=timezone.localdate())
    with _duplicate_as_error(a_hash, actor=created_by), transaction.atomic():
        case.save(force_insert=True)
        CaseRequest.other_languages.through.objects.bulk_create(
            CaseRequest.other_languages.through(caserequest=case, language=language)
            for language in other_languages
        )
        event_record(
            verb="case_request.created",
            actor=created_by,
            target=case,
            data={
                "reference": case.reference,
                "source": source,
                "organization_id": _pk(organization),
            },
        )
        if duplicate_of is not None:
            _review_requested(case, duplicate_of=duplicate_of, actor=created_by)
        if request_run:
            matching_run_request_on_commit(trigger="case")
    logger.info("Case request %s created (source: %s).", case.reference, source)
    return case


def case_request_submit_by_partner(
    *,
    data: dict[str, Any],
    created_by: Actor,
    organization: Organization,
    submission_token: UUID | None = None,
    again: bool = False,
) -> tuple[CaseRequest, bool]:
    """Partner intake; returns (case request, created).

    A duplicate A-number is refused only within the partner's organization (its cases are
    theirs to see anyway). One of another organization's cases, or of a case a coordinator
    recorded, is never disclosed to the submitter (issue 11 #5): the request is stored for
    coordinator review and answered exactly like a fresh one.

    The same submission sent again (its ``submission_token``, core.forms: a double click, a
    resend, a retried POST) records nothing and returns the request it recorded, with False.
    Twins sent at once may both miss the lookup: the token's unique index lets one insert
    through and refuses the other (or the A-number's does, whichever is checked first), which
    then finds the first. A new submission of a request the organization just recorded (Back,
    then Send) is refused unless ``again`` says it is another person (case_request_repeat_check).
    """
    refs = ReferenceCache()  # the check and the insert clean the data: one lookup of each code

    def create() -> CaseRequest:
        if not again:
            case_request_repeat_check(
                data=data, actor=created_by, organization=organization, token=submission_token,
                refs=refs,
            )  # fmt: skip
        return _partner_create(
            data=data, refs=refs, created_by=created_by, organization=organization,
            submission_token=submission_token,
        )  # fmt: skip

    return _once(lambda: _partner_submitted(submission_token, organization), create)


def _once(
    find: Callable[[], CaseRequest | None], create: Callable[[], CaseRequest]
) -> tuple[CaseRequest, bool]:
    """(the request a submission recorded already, False), or (the one ``create`` records,
    True). Twins sent at once may both miss ``find``: the token's unique index (or the
    A-number's) lets one insert through and refuses the other, which then finds the first."""
    if (earlier := find()) is not None:
        return earlier, False
    try:
        return create(), True
    except (IntegrityError, DuplicateANumber):
        if (earlier := find()) is None:
            raise
        return earlier, False


def _partner_create(*, organization: Organization, **fields: Any) -> CaseRequest:
    fields |= {"organization": organization, "source": CaseRequest.Source.PARTNER}
    try:
        return case_request_create(**fields)
    except DuplicateANumber as error:
        existing = CaseRequest.objects.get(reference=error.existing_reference)
        if existing.organization_id == organization.pk:
            raise
    return case_request_create(**fields, duplicate_of=existing)


def _partner_submitted(token: UUID | None, organization: Organization) -> CaseRequest | None:
    return _submitted(token, scope={"organization_id": organization.pk})


def case_request_create_by_coordinator(
    *,
    data: dict[str, Any],
    created_by: Actor,
    organization: Organization | None = None,
    submission_token: UUID | None = None,
) -> tuple[CaseRequest, bool]:
    """The admin's add form; returns (case request, created). As partner intake
    (case_request_submit_by_partner), the same submission sent again records nothing and
    returns the request it recorded; its twin, sent at the same instant, is refused by the
    token's (or the A-number's) unique index and finds the first."""
    return _once(
        lambda: case_request_submitted(token=submission_token),
        lambda: case_request_create(
            data=data, created_by=created_by, source=CaseRequest.Source.COORDINATOR,
            organization=organization, submission_token=submission_token,
        ),
    )  # fmt: skip


def case_request_submitted(*, token: UUID | None) -> CaseRequest | None:
    """The request the coordinators' add form with this token recorded already."""
    return _submitted(token, scope={"source": CaseRequest.Source.COORDINATOR})


def _submitted(token: UUID | None, *, scope: dict[str, Any]) -> CaseRequest | None:
    """The request a form with this one-time token recorded already. One outside ``scope``
    (another organization's; a partner's sent to the admin) is refused, naming nothing of it."""
    earlier = CaseRequest.objects.filter(submission_token=token).first() if token else None
    if earlier is not None and any(getattr(earlier, k) != v for k, v in scope.items()):
        raise CaseRequestInvalid({"__all__": [FORM_USED]})
    if earlier is not None:
        logger.info("Case request %s sent again: nothing recorded.", earlier.reference)
    return earlier


def case_request_repeat_check(
    *,
    data: dict[str, Any],
    actor: Actor,
    organization: Organization | None = None,
    token: UUID | None = None,
    refs: ReferenceCache | None = None,
) -> None:
    """Refuses (RequestJustRecorded) a request without an A-number that repeats one recorded
    within REQUEST_REPEAT_WINDOW: by the organization's staff (partner intake passes it) or
    else by the same coordinator (the admin's add form). With an A-number its unique hash
    decides instead.

    The same request is the same person at the same court, in the same case type and language,
    and the same next hearing where both have one: what a partner must fill in, and what a form
    restored after Back repeats, while two different people rarely share them all within minutes
    (and the box lets the user say so). The name is encrypted, so the few rows of that scope
    within the window that match the rest are decrypted and compared, folded for case and
    spacing. A row of this very submission (its ``token``) is not a repeat but its twin, which
    the insert finds.
    """
    cleaned = case_request_clean(data, refs=refs)
    if cleaned["a_number"]:
        return
    scope = (
        models.Q(source=CaseRequest.Source.PARTNER, organization=organization)
        if organization is not None
        else models.Q(source=CaseRequest.Source.COORDINATOR, created_by=actor)
    )
    recent = CaseRequest.objects.filter(
        scope,
        created_at__gte=timezone.now() - REQUEST_REPEAT_WINDOW,
        a_number_hash__isnull=True,  # no A-number (or held for review, which has one)
        court=cleaned["court"],
        case_type=cleaned["case_type"],
        language=cleaned["language"],
    )
    if token is not None:
        recent = recent.exclude(submission_token=token)
    fields = ("reference", "created_at", "respondent_name", "a_number", "next_hearing_date")
    for earlier in recent.only(*fields).order_by("-created_at"):
        if _same_person(earlier, cleaned):
            logger.info("Case request %s repeated within minutes: asked.", earlier.reference)
            raise RequestJustRecorded(earlier=earlier)


def _same_person(earlier: CaseRequest, cleaned: dict[str, Any]) -> bool:
    hearing, earlier_hearing = cleaned["next_hearing_date"], earlier.next_hearing_date
    return (
        not earlier.a_number
        and _name_key(earlier.respondent_name) == _name_key(cleaned["respondent_name"])
        and (hearing is None or earlier_hearing is None or hearing == earlier_hearing)
    )


def _name_key(name: str) -> str:
    """A name as typed twice compares equal: Unicode forms, case and spacing folded."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def case_request_edit_by_partner(
    *, case_request: CaseRequest, data: dict[str, Any], updated_by: Actor
) -> CaseRequest:
    """A partner's edit: an A-number changed into another organization's is, as at intake,
    kept for coordinator review and never disclosed (case_request_submit_by_partner)."""
    try:
        return case_request_update(case_request=case_request, data=data, updated_by=updated_by)
    except DuplicateANumber as error:
        existing = CaseRequest.objects.get(reference=error.existing_reference)
        if existing.organization_id == case_request.organization_id:
            raise
    return case_request_update(
        case_request=case_request, data=data, updated_by=updated_by, duplicate_of=existing
    )


def case_request_review_resolve(
    *, case_request: CaseRequest, actor: Actor, release: bool
) -> CaseRequest:
    """A coordinator's decision on a request held for review: ``release`` it to matching (its
    A-number was corrected, or the other case withdrawn: it must be unique now), or withdraw
    it as the duplicate it is."""
    _require_identifier_access(actor)
    with transaction.atomic():
        case = CaseRequest.objects.select_for_update().get(pk=case_request.pk)
        if case.status != CaseRequest.Status.REVIEW:
            raise CaseRequestInvalid({"__all__": [f"{case.reference} is not waiting for review."]})
        if release:
            case.a_number_hash = a_number_hash(case.a_number) if case.a_number else None
            _refuse_duplicate(case.a_number_hash, actor=actor, exclude_pk=case.pk)
        case.status = CaseRequest.Status.OPEN if release else CaseRequest.Status.WITHDRAWN
        case.save(update_fields=["status", "a_number_hash", "updated_at"])
        event_record(
            verb="case_request.review_released" if release else "case_request.review_withdrawn",
            actor=actor,
            target=case,
            data={"reference": case.reference},
        )
        if release:
            matching_run_request_on_commit(trigger="case")
    return case


def matching_run_request_on_commit(*, trigger: str) -> None:
    """Ask for a debounced matching run once this transaction commits (nothing on rollback)."""
    # Imported here: matching's pipeline imports the cases app, not the other way round.
    from matching.followups import matching_run_request

    matching_run_request(trigger=trigger)


def case_request_update(
    *,
    case_request: CaseRequest,
    data: dict[str, Any],
    updated_by: Actor,
    duplicate_of: CaseRequest | None = None,
) -> CaseRequest:
    """Apply the fields present in ``data``; identifiers absent from it are left untouched.

    Compares with the row as stored (locked), not with ``case_request``, which a form may
    already have changed in memory. With ``duplicate_of`` (case_request_edit_by_partner) a new
    A-number that repeats that case is kept for review instead of refused.
    """
    with transaction.atomic():
        case = CaseRequest.objects.select_for_update().get(pk=case_request.pk)
        changes, languages = _prepare_update(
            case, data, actor=updated_by, duplicate_of=duplicate_of
        )
        # A savepoint, so that a concurrent duplicate's IntegrityError leaves the transaction
        # usable for the lookup that names the other case.
        with (
            _duplicate_as_error(changes.get("a_number_hash"), actor=updated_by),
            transaction.atomic(),
        ):
            for name, value in changes.items():
                setattr(case, name, value)
            _set_priority(case, today=timezone.localdate())
            case.save(update_fields=[*changes, "priority", "priority_parts", "updated_at"])
        if languages is not None:
            case.other_languages.set(languages)
        fields = sorted({*changes, *(["other_languages"] if languages is not None else [])})
        if fields:  # a save without changes only refreshes the priority
            event_record(
                verb="case_request.updated",
                actor=updated_by,
                target=case,
                data={
                    "reference": case.reference,
                    "fields": [f for f in fields if f != "a_number_hash"],
                },
            )
        if duplicate_of is not None:
            _review_requested(case, duplicate_of=duplicate_of, actor=updated_by)
    logger.info("Case request %s updated (%d fields).", case.reference, len(fields))
    return case


SCHEDULE_FIELDS = ("next_hearing_date", "next_hearing_type", "filing_deadline")


def case_request_schedule_set(
    *, case_request: CaseRequest, actor: Actor, **fields: Any
) -> CaseRequest:
    """Set the case's next hearing and filing deadline, as an attorney's status update reports
    them (matching.checkins): only these fields, checked by the caller; the priority follows.
    Other fields are left as stored, even a stale one an edit form would refuse."""
    unknown = set(fields) - set(SCHEDULE_FIELDS)
    if unknown:
        raise ValueError(f"not schedule fields: {sorted(unknown)}")
    with transaction.atomic():
        case = CaseRequest.objects.select_for_update().get(pk=case_request.pk)
        changed = sorted(name for name, value in fields.items() if getattr(case, name) != value)
        for name in changed:
            setattr(case, name, fields[name])
        _set_priority(case, today=timezone.localdate())
        case.save(update_fields=[*changed, "priority", "priority_parts", "updated_at"])
        if changed:
            event_record(
                verb="case_request.updated",
                actor=actor,
                target=case,
                data={"reference": case.reference, "fields": changed, "via": "status_update"},
            )
    return case


def case_request_check(
    *,
    data: dict[str, Any],
    actor: Actor,
    case_request: CaseRequest | None = None,
    refs: ReferenceCache | None = None,
    taken: dict[str, str] | None = None,
) -> None:
    """Everything create (or update) would refuse, without writing: forms call it in clean(),
    the import preview on every row.

    ``taken`` (hash → reference, from ``case_request_references_by_hash``) replaces the
    per-row lookup; each checked A-number is added to it, so a file's own repeats are caught.
    """
    if case_request is not None and case_request.pk is not None:
        _prepare_update(CaseRequest.objects.get(pk=case_request.pk), data, actor=actor)
        return
    cleaned = case_request_clean(data, refs=refs)
    if not cleaned["a_number"]:
        return
    a_hash = a_number_hash(cleaned["a_number"])
    if taken is None:
        _refuse_duplicate(a_hash, actor=actor)
    elif taken.get(a_hash) == _EARLIER_ROW:
        raise CaseRequestInvalid({"a_number": ["This A-number is on an earlier row of the file."]})
    elif a_hash in taken:
        raise DuplicateANumber(
            existing_reference=taken[a_hash], show_reference=_can_view_identifiers(actor)
        )
    else:
        taken[a_hash] = _EARLIER_ROW


def case_request_references_by_hash(*, raw_a_numbers: Iterable[object]) -> dict[str, str]:
    """Keyed hash → reference of the stored cases among these A-numbers (invalid ones skipped)."""
    hashes = set()
    for raw in raw_a_numbers:
        try:
            hashes.add(a_number_hash(normalize_a_number(str(raw))))
        except InvalidANumber:
            continue
    found: dict[str, str] = {}
    batch = sorted(hashes)
    for start in range(0, len(batch), 1000):
        rows = CaseRequest.objects.filter(a_number_hash__in=batch[start : start + 1000])
        found.update(
            (a_hash, reference)
            for a_hash, reference in rows.values_list("a_number_hash", "reference")
            if a_hash is not None  # (the filter's already)
        )
    return found


def case_request_recompute_priorities(*, today: date | None = None, batch_size: int = 1000) -> int:
    """Recompute every active case's priority; write only the changed ones and return their count.

    Reads plain tuples (no model instances, no decryption) and writes with bulk_update in batches,
    so 100,000 cases take one pass and a few hundred statements.
    """
    today = today or timezone.localdate()
    rows = (
        CaseRequest.objects.filter(status__in=ACTIVE_STATUSES)
        .order_by()
        .values_list(
            "pk", "detained", "next_hearing_date", "filing_deadline", "created_at", "priority_parts"
        )
    )
    pending: list[CaseRequest] = []
    updated = 0
    for pk, detained, hearing, deadline, created_at, parts in rows.iterator(chunk_size=batch_size):
        breakdown = case_priority(
            detained=detained,
            next_hearing_date=hearing,
            filing_deadline=deadline,
            waiting_since=timezone.localdate(created_at),
            today=today,
        )
        if parts != breakdown.as_dict():
            pending.append(
                CaseRequest(pk=pk, priority=breakdown.total, priority_parts=breakdown.as_dict())
            )
        if len(pending) >= batch_size:
            updated += _write_priorities(pending)
            pending = []
    updated += _write_priorities(pending)
    event_record(verb="case_request.priorities_recomputed", data={"updated": updated})
    return updated


def case_request_identifiers_viewed(
    *, case_request: CaseRequest, viewer: Actor, where: str
) -> None:
    """Record that someone saw a full record with its identifiers (SEC-24)."""
    event_record(
        verb="case_request.identifiers_viewed",
        actor=viewer,
        target=case_request,
        data={"reference": case_request.reference, "where": where},
    )


def partner_membership_set(
    *, user: User, organization: Organization, actor: Actor
) -> PartnerMembership:
    """Make ``user`` partner intake staff of ``organization`` (one organization per user).

    Partner staff read the names and A-numbers of their organization's cases, so granting it is
    granting identifier access: only someone who may see identifiers does (issue 11 #3).
    """
    _require_identifier_access(actor)
    with transaction.atomic():
        previous = (
            PartnerMembership.objects.filter(user=user)
            .values_list("organization_id", flat=True)
            .first()
        )
        membership, _ = PartnerMembership.objects.update_or_create(
            user=user, defaults={"organization": organization}
        )
        user.groups.add(partner_intake_group_sync())
        event_record(
            verb="partner_membership.set",
            actor=actor,
            target=membership,
            data={
                "user_id": user.pk,
                "organization_id": organization.pk,
                "previous_organization_id": previous,
            },
        )
    return membership


def partner_membership_end(*, membership: PartnerMembership, actor: Actor) -> None:
    """End a user's partner intake access: the membership and the role go together."""
    _require_identifier_access(actor)
    with transaction.atomic():
        event_record(
            verb="partner_membership.ended",
            actor=actor,
            target=membership,
            data={"user_id": membership.user_id, "organization_id": membership.organization_id},
        )
        membership.user.groups.remove(partner_intake_group_sync())
        membership.delete()


class IdentifierAccessRequired(DomainError):
    """Granting partner access or judging a repeated A-number needs cases.view_identifiers."""

    code = "identifier_access_required"


# Retention (SEC-25) -------------------------------------------------------------------------------

FINISHED_STATUSES = (CaseRequest.Status.CLOSED, CaseRequest.Status.WITHDRAWN)
# Everything that identifies the person or may (free text typed about them); language, court,
# case type, dates and country stay, as anonymous figures for the dashboard and the pledges.
PURGED_VALUES = {
    "respondent_name": "",
    "a_number": "",
    "a_number_hash": None,
    "contact_route": "",
    "summary": "",
    "detention_facility": "",
}
# Free text about the case on its matches (an attorney's or coordinator's note).
PURGED_MATCH_VALUES = {"decline_note": "", "reject_reason": ""}


def case_requests_purge(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Anonymise closed and withdrawn cases not changed for CASE_RETENTION_DAYS; return how many.

    1. Select the due cases (finished, older than the retention period, not yet purged).
    2. Per batch, in one transaction: blank the identifiers, the keyed A-number hash and the free
       text of the cases and of their matches, stamp ``purged_at``, and record one
       ``case_request.purged`` event per case (its reference only).

    The event log is append-only (a PostgreSQL trigger refuses UPDATE and DELETE) and needs no
    scrubbing: events hold ids, codes and references only, never a name, an A-number, a contact
    route or free text (services' rule, SEC-23; the purge test searches every table, the log
    included). So the purge never lifts the trigger. Idempotent: a re-run finds nothing due.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.CASE_RETENTION_DAYS)
    due = CaseRequest.objects.filter(
        status__in=FINISHED_STATUSES, updated_at__lt=cutoff, purged_at__isnull=True
    )
    ids = list(due.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        _purge_batch(ids[start : start + batch_size], now=now)
    if ids:
        logger.info("Retention purge: %d case requests anonymised.", len(ids))
    return len(ids)


def _purge_batch(ids: list[int], *, now: datetime) -> None:
    with transaction.atomic():
        cases = CaseRequest.objects.filter(pk__in=ids, purged_at__isnull=True)
        purged = list(cases.select_for_update().only("pk", "reference"))
        CaseRequest.objects.filter(pk__in=[c.pk for c in purged]).update(
            **PURGED_VALUES, purged_at=now
        )
        # Match through the relation: matching imports cases, not the other way round.
        matches = CaseRequest._meta.get_field("matches").related_model._default_manager
        matches.filter(case_id__in=[c.pk for c in purged]).update(**PURGED_MATCH_VALUES)
        for case in purged:
            event_record(
                verb="case_request.purged", target=case, data={"reference": case.reference}
            )


# Helpers -----------------------------------------------------------------------------------------


def _review_requested(case: CaseRequest, *, duplicate_of: CaseRequest, actor: Actor) -> None:
    event_record(
        verb="case_request.duplicate_held_for_review",
        actor=actor,
        target=case,
        data={"reference": case.reference, "duplicate_of": duplicate_of.reference},
    )
    # After commit, to whoever mails the coordinators (cases.tasks listens: services never
    # import tasks). The REVIEW status is the durable record: the admin lists it.
    transaction.on_commit(lambda: case_request_review_due.send(sender=CaseRequest, case_id=case.pk))


def _refuse_duplicate(a_hash: str | None, *, actor: Actor, exclude_pk: int | None = None) -> None:
    if a_hash is None:
        return
    same = CaseRequest.objects.filter(a_number_hash=a_hash)
    if exclude_pk is not None:
        same = same.exclude(pk=exclude_pk)
    existing = same.values_list("reference", flat=True).first()
    if existing is not None:
        raise DuplicateANumber(
            existing_reference=existing, show_reference=_can_view_identifiers(actor)
        )


class _duplicate_as_error:
    """Turn the unique constraint's IntegrityError (a concurrent duplicate) into the form error."""

    def __init__(self, a_hash: str | None, *, actor: Actor):
        self.a_hash, self.actor = a_hash, actor

    def __enter__(self) -> "_duplicate_as_error":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> Literal[False]:
        if kind is IntegrityError and self.a_hash is not None:
            _refuse_duplicate(self.a_hash, actor=self.actor)
        return False


def _require_identifier_access(actor: Actor) -> None:
    if not _can_view_identifiers(actor):
        raise IdentifierAccessRequired(
            "Only staff who may see respondent identifiers can do this: it gives access to them."
        )


def _can_view_identifiers(user: Actor) -> bool:
    return user is not None and user.is_authenticated and user.has_perm(VIEW_IDENTIFIERS)


def _set_priority(case: CaseRequest, *, today: date) -> None:
    breakdown = case_priority(
        detained=case.detained,
        next_hearing_date=case.next_hearing_date,
        filing_deadline=case.filing_deadline,
        waiting_since=timezone.localdate(case.created_at) if case.created_at else today,
        today=today,
    )
    case.priority = breakdown.total
    case.priority_parts = breakdown.as_dict()


def _write_priorities(cases: list[CaseRequest]) -> int:
    """Write a batch of priorities in one statement.

    On PostgreSQL, UPDATE … FROM (VALUES …): Django's bulk_update builds CASE WHEN chains that
    PostgreSQL evaluates row by row against every branch (50 s for 100,000 cases, against a few
    seconds this way). Elsewhere (SQLite), bulk_update.
    """
    if not cases:
        return 0
    if connection.vendor != "postgresql":
        CaseRequest.objects.bulk_update(cases, ["priority", "priority_parts"])
        return len(cases)
    table = connection.ops.quote_name(CaseRequest._meta.db_table)
    rows = ", ".join(["(%s, %s, %s::jsonb)"] * len(cases))
    params = [v for c in cases for v in (c.pk, c.priority, json.dumps(c.priority_parts))]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS c SET priority = v.priority, priority_parts = v.parts"  # noqa: S608
            f" FROM (VALUES {rows}) AS v(id, priority, parts) WHERE c.id = v.id",
            params,
        )
    return len(cases)


def _prepare_update(
    case: CaseRequest,
    data: dict[str, Any],
    *,
    actor: Actor,
    duplicate_of: CaseRequest | None = None,
) -> tuple[dict[str, Any], list[Language] | None]:
    """(field → new value for the changed fields, new other languages or None if unchanged)."""
    given_identifiers = {name for name in IDENTIFIER_FIELDS if name in data}
    merged = {**_current_values(case), **data}
    cleaned = case_request_clean(
        merged, skip=set(IDENTIFIER_FIELDS) - given_identifiers, stored=case
    )
    languages = cleaned.pop("other_languages")
    changes = {name: value for name, value in cleaned.items() if _differs(case, name, value)}
    if "a_number" in changes and duplicate_of is not None:
        changes.update(a_number_hash=None, duplicate_of=duplicate_of)
        if case.status == CaseRequest.Status.OPEN:  # a case in a match stays in it
            changes["status"] = CaseRequest.Status.REVIEW
    elif "a_number" in changes:
        a_hash = a_number_hash(changes["a_number"]) if changes["a_number"] else None
        _refuse_duplicate(a_hash, actor=actor, exclude_pk=case.pk)
        changes["a_number_hash"] = a_hash
    current_languages = set(case.other_languages.values_list("pk", flat=True))
    return changes, (languages if {lang.pk for lang in languages} != current_languages else None)


def _current_values(case: CaseRequest) -> dict[str, Any]:
    return {
        "country_of_nationality": case.country_of_nationality,
        "language": case.language_id,
        "other_languages": list(case.other_languages.values_list("pk", flat=True)),
        "relay_interpreter_ok": case.relay_interpreter_ok,
        "relay_language": case.relay_language_id,
        "court": case.court.code,
        "case_type": case.case_type_id,
        "detained": case.detained,
        "detention_facility": case.detention_facility,
        "remote_ok": case.remote_ok,
        "next_hearing_date": case.next_hearing_date,
        "next_hearing_type": case.next_hearing_type,
        "filing_deadline": case.filing_deadline,
        "summary": case.summary,
    }


def _differs(case: CaseRequest, name: str, value: Any) -> bool:
    current = getattr(case, name)
    if is_unreadable(current):
        return True
    return bool(current != value)


def _pk(obj: models.Model | None) -> int | None:
    return obj.pk if obj is not None else None
