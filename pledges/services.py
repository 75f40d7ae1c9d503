"""Every write to a pledge: submission, confirmation, moderation, edit and withdrawal (STYLE 2, 3).

Each service validates, writes inside one transaction, records a domain event (ids and codes
only, never the contact's name or email) and raises PledgeError with a stable code.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from django.contrib.auth.models import User
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from cases.models import CaseType, ImmigrationCourt, Language
from core.errors import DomainError
from core.services import event_record
from core.types import Actor
from pledges.models import OrganizationManager, Pledge
from pledges.signals import pledge_confirmation_due
from volunteers.models import Organization

# The salts keep the names they had in the volunteers app: links already emailed stay valid.
CONFIRM_SALT = "volunteers.pledge.confirm"
MANAGE_SALT = "volunteers.pledge.manage"
CONFIRM_MAX_AGE = 14 * 24 * 3600
MANAGE_MAX_AGE = 365 * 24 * 3600
INVITE_SALT = "volunteers.organization.invite"
INVITE_MAX_AGE = 90 * 24 * 3600
WALL_CACHE_VERSION_KEY = "pledges:wall-version"
RESEND_AFTER = timedelta(minutes=10)


class PledgeError(DomainError):
    code = "pledge_error"


@dataclass(frozen=True)
class PledgeData:
    """What the form collected, cleaned. Many-to-many values are querysets or lists of rows."""

    organization_name: str
    organization_kind: str
    city: str
    state: str
    website: str
    contact_name: str
    contact_email: str
    contact_phone: str
    kind: str
    amount: int
    period_start: date
    period_end: date
    message: str
    public: bool
    courts: Iterable[ImmigrationCourt] = ()
    languages: Iterable[Language] = ()
    case_types: Iterable[CaseType] = ()


def pledge_token(*, pledge: Pledge, salt: str) -> str:
    """A signed, timestamped token carrying only the pledge's id (no personal data in URLs)."""
    return signing.TimestampSigner(salt=salt).sign(str(pledge.pk))


def pledge_from_token(*, token: str, salt: str, max_age: int) -> Pledge:
    try:
        pk = signing.TimestampSigner(salt=salt).unsign(token, max_age=max_age)
    except signing.SignatureExpired:
        raise PledgeError("This link has expired.", code="link_expired") from None
    except signing.BadSignature:
        raise PledgeError("This link is not valid.", code="link_invalid") from None
    pledge = Pledge.objects.select_related("organization").filter(pk=int(pk)).first()
    if pledge is None:
        raise PledgeError("This pledge no longer exists.", code="link_invalid")
    return pledge


def wall_invalidate() -> None:
    """Bump the wall's cache version: every cached aggregate is recomputed on next read."""
    cache.set(WALL_CACHE_VERSION_KEY, timezone.now().timestamp(), None)


def _organization_for(data: PledgeData) -> tuple[Organization, bool]:
    """The organization by name, any case and spacing, or a new unconfirmed one (locked:
    serialises repeats); returns (organization, created by this submission).

    Finding one by name grants nothing: the pledge is that organization's only after a
    coordinator approves it, and its contact manages the organization only if this pledge
    created it or its manager or a coordinator agrees (organization_manager_claim)."""
    name = " ".join(data.organization_name.split())
    fields = {"kind": data.organization_kind, "city": data.city.strip(), "state": data.state}
    fields["website"] = data.website
    organization = Organization.objects.select_for_update().filter(name__iexact=name).first()
    if organization is not None:
        return organization, False
    try:
        with transaction.atomic():  # savepoint: a concurrent first pledge may win the name
            organization = Organization.objects.create(name=name, confirmed=False, **fields)
    except IntegrityError:
        # The other request created it: wait for its commit, then join it (its pledge, if the
        # same, is recognised by pledge_submit instead of duplicated).
        return Organization.objects.select_for_update().get(name__iexact=name), False
    event_record(verb="organization.named", target=organization, data={"via": "pledge"})
    return organization, True


_PLEDGE_FIELDS = (
    "contact_name", "contact_phone", "kind", "amount", "period_start", "period_end", "message",
    "public",
)  # fmt: skip


def _pledge_write(pledge: Pledge, data: PledgeData) -> None:
    for name in _PLEDGE_FIELDS:
        value = getattr(data, name)
        setattr(pledge, name, value.strip() if isinstance(value, str) else value)
    pledge.save()
    pledge.courts.set(data.courts)
    pledge.languages.set(data.languages)
    pledge.case_types.set(data.case_types)


def _validate(data: PledgeData) -> None:
    if data.period_end <= data.period_start:
        raise PledgeError("The period must end after it starts.", code="period_order")
    if not 1 <= data.amount <= 1_000_000:
        raise PledgeError("Pledge between 1 and 1,000,000.", code="amount_range")


@transaction.atomic
def pledge_submit(*, data: PledgeData) -> tuple[Pledge, bool]:
    """Save a public submission; returns (pledge, created).

    1. Find the organization by name (case-insensitive) or create it unconfirmed, under a lock.
    2. A live pledge of the same kind from the same organization and email is recognised: an
       unconfirmed or pending one takes the new values, an approved one is left as reviewed.
    3. Otherwise a new unconfirmed pledge; its confirmation email is enqueued after commit.
    """
    _validate(data)
    organization, organization_created = _organization_for(data)
    email = data.contact_email.strip()
    existing = Pledge.objects.filter(
        organization=organization,
        contact_email__iexact=email,
        kind=data.kind,
        status__in=Pledge.LIVE_STATUSES,
    ).first()
    if existing is not None:
        if existing.status != Pledge.Status.APPROVED:
            _pledge_write(existing, data)
        # The contact may have lost the first email: send the link again, but not while the
        # first one is in flight or fresh (a double click must not mail twice).
        resend = Pledge.objects.filter(
            pk=existing.pk,
            status=Pledge.Status.UNCONFIRMED,
            confirmation_sent_at__lt=timezone.now() - RESEND_AFTER,
        ).update(confirmation_sent_at=None)
        if resend:
            _confirmation_due(existing.pk)
        event_record(verb="pledge.resubmitted", target=existing, data={"status": existing.status})
        return existing, False
    pledge = Pledge(
        organization=organization, contact_email=email, organization_created=organization_created
    )
    _pledge_write(pledge, data)
    event_record(verb="pledge.submitted", target=pledge, data={"kind": pledge.kind})
    _confirmation_due(pledge.pk)
    return pledge, True


def _confirmation_due(pledge_id: int) -> None:
    """After commit: tell whoever publishes the email (pledges.tasks listens; services never
    import tasks, so the two modules do not import each other)."""
    transaction.on_commit(lambda: pledge_confirmation_due.send(sender=Pledge, pledge_id=pledge_id))


def pledge_confirmation_send(*, pledge_id: int, send: Callable[[Pledge], object]) -> bool:
    """Claim the email with a conditional update and send it; exactly once (STYLE 10).

    `send(pledge)` does the sending; if it raises, the claim is released so a retry or the
    sweeper sends it later.
    """
    now = timezone.now()
    claimed = Pledge.objects.filter(
        pk=pledge_id, status=Pledge.Status.UNCONFIRMED, confirmation_sent_at__isnull=True
    ).update(confirmation_sent_at=now)
    if claimed != 1:
        return False
    try:
        send(Pledge.objects.select_related("organization").get(pk=pledge_id))
    except Exception:
        Pledge.objects.filter(pk=pledge_id, confirmation_sent_at=now).update(
            confirmation_sent_at=None
        )
        raise
    event_record(verb="pledge.confirmation_sent", target=Pledge(pk=pledge_id))
    return True


@transaction.atomic
def pledge_confirm(*, pledge: Pledge) -> Pledge:
    """The contact followed the emailed link: the pledge waits for a coordinator."""
    pledge = Pledge.objects.select_for_update().get(pk=pledge.pk)
    if pledge.status != Pledge.Status.UNCONFIRMED:
        return pledge  # idempotent: a second click changes nothing
    pledge.status, pledge.confirmed_at = Pledge.Status.PENDING, timezone.now()
    pledge.save(update_fields=["status", "confirmed_at"])
    event_record(verb="pledge.confirmed", target=pledge)
    return pledge


def _decide(*, pledge: Pledge, actor: Actor, status: str, verb: str) -> Pledge:
    pledge = Pledge.objects.select_for_update().get(pk=pledge.pk)
    if pledge.status == status:
        return pledge
    if pledge.status != Pledge.Status.PENDING:
        raise PledgeError(
            f"Only pledges awaiting review can be decided (this one is {pledge.status}).",
            code="not_pending",
        )
    pledge.status, pledge.decided_at = status, timezone.now()
    pledge.save(update_fields=["status", "decided_at"])
    event_record(verb=verb, actor=actor, target=pledge)
    transaction.on_commit(wall_invalidate)
    return pledge


@transaction.atomic
def pledge_approve(*, pledge: Pledge, actor: Actor) -> Pledge:
    return _decide(
        pledge=pledge, actor=actor, status=Pledge.Status.APPROVED, verb="pledge.approved"
    )


@transaction.atomic
def pledge_reject(*, pledge: Pledge, actor: Actor) -> Pledge:
    return _decide(
        pledge=pledge, actor=actor, status=Pledge.Status.REJECTED, verb="pledge.rejected"
    )


@transaction.atomic
def pledge_update(*, pledge: Pledge, data: PledgeData) -> Pledge:
    """The contact edits through the signed link. A changed approved pledge is reviewed again."""
    _validate(data)
    pledge = Pledge.objects.select_for_update().get(pk=pledge.pk)
    if pledge.status not in Pledge.LIVE_STATUSES:
        raise PledgeError("This pledge can no longer be changed.", code="not_live")
    twin = Pledge.objects.filter(
        organization_id=pledge.organization_id,
        contact_email__iexact=pledge.contact_email,
        kind=data.kind,
        status__in=Pledge.LIVE_STATUSES,
    ).exclude(pk=pledge.pk)
    if twin.exists():  # the database would refuse it (pledge_one_live_per_org_email_kind)
        raise PledgeError("You already have a pledge of this kind; change that one.", code="twin")
    _pledge_write(pledge, data)
    if pledge.status == Pledge.Status.APPROVED:
        pledge.status = Pledge.Status.PENDING
        pledge.save(update_fields=["status"])
    event_record(verb="pledge.updated", target=pledge, data={"status": pledge.status})
    transaction.on_commit(wall_invalidate)
    return pledge


@transaction.atomic
def pledge_withdraw(*, pledge: Pledge) -> Pledge:
    pledge = Pledge.objects.select_for_update().get(pk=pledge.pk)
    if pledge.status == Pledge.Status.WITHDRAWN:
        return pledge
    pledge.status = Pledge.Status.WITHDRAWN
    pledge.save(update_fields=["status"])
    event_record(verb="pledge.withdrawn", target=pledge)
    transaction.on_commit(wall_invalidate)
    return pledge


@transaction.atomic
def organization_manager_claim(*, pledge: Pledge, user: User) -> tuple[OrganizationManager, bool]:
    """The pledge's contact (who holds its signed manage link) claims a manager account for the
    organization; returns (manager, created). Idempotent: a second claim changes nothing.

    Only an approved pledge qualifies. The claim is approved at once only when this pledge
    created the organization and nobody manages it yet; otherwise (the pledge found an existing
    organization by its name) it waits for the organization's manager or a coordinator, so a
    stranger's pledge never takes over a firm (issue 11 #8).
    """
    pledge = Pledge.objects.select_related("organization").get(pk=pledge.pk)
    if pledge.status != Pledge.Status.APPROVED:
        raise PledgeError(
            "A manager account can be claimed once the pledge is approved.", code="not_approved"
        )
    organization = Organization.objects.select_for_update().get(pk=pledge.organization_id)
    manager, created = OrganizationManager.objects.get_or_create(
        user=user, organization=organization
    )
    if not created:
        return manager, False
    founder = pledge.organization_created and not _approved_managers(organization).exists()
    if founder:
        manager.approved_at = timezone.now()
        manager.save(update_fields=["approved_at"])
    event_record(
        verb="organization.manager_claimed" if founder else "organization.manager_requested",
        actor=user,
        target=organization,
        data={"pledge_id": pledge.pk},
    )
    return manager, True


def _approved_managers(organization: Organization) -> QuerySet[OrganizationManager]:
    return OrganizationManager.objects.filter(organization=organization, approved_at__isnull=False)


def _may_decide_for(*, actor: User, organization_id: int, permission: str) -> bool:
    """A coordinator (the model permission) or an approved manager of the organization."""
    if actor.has_perm(permission):
        return True
    return OrganizationManager.objects.filter(
        user=actor, organization_id=organization_id, approved_at__isnull=False
    ).exists()


@transaction.atomic
def organization_manager_approve(
    *, manager: OrganizationManager, actor: User
) -> OrganizationManager:
    """A coordinator or an approved manager of the organization accepts a manager claim."""
    manager = OrganizationManager.objects.select_for_update().get(pk=manager.pk)
    if not _may_decide_for(
        actor=actor,
        organization_id=manager.organization_id,
        permission="pledges.change_organizationmanager",
    ):
        raise PledgeError("Only its manager or a coordinator can decide.", code="not_allowed")
    if manager.approved_at is None:
        manager.approved_at = timezone.now()
        manager.save(update_fields=["approved_at"])
        event_record(
            verb="organization.manager_approved",
            actor=actor,
            target=manager.organization,
            data={"user_id": manager.user_id},
        )
    return manager


@transaction.atomic
def organization_manager_remove(*, manager: OrganizationManager, actor: User) -> None:
    """A coordinator or an approved manager of the organization ends someone's management of
    it, or declines their claim."""
    if not _may_decide_for(
        actor=actor,
        organization_id=manager.organization_id,
        permission="pledges.delete_organizationmanager",
    ):
        raise PledgeError("Only its manager or a coordinator can decide.", code="not_allowed")
    event_record(
        verb="organization.manager_removed",
        actor=actor,
        target=manager.organization,
        data={"user_id": manager.user_id},
    )
    manager.delete()


def organization_invite_token(*, organization: Organization) -> str:
    """A signed, timestamped token carrying only the organization's id."""
    return signing.TimestampSigner(salt=INVITE_SALT).sign(str(organization.pk))


def organization_from_invite_token(*, token: str) -> Organization:
    try:
        pk = signing.TimestampSigner(salt=INVITE_SALT).unsign(token, max_age=INVITE_MAX_AGE)
    except signing.SignatureExpired:
        raise PledgeError("This invitation has expired.", code="link_expired") from None
    except signing.BadSignature:
        raise PledgeError("This invitation link is not valid.", code="link_invalid") from None
    organization = Organization.objects.filter(pk=int(pk)).first()
    if organization is None:
        raise PledgeError("This organization no longer exists.", code="link_invalid")
    return organization
