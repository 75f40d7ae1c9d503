"""Permission-scoped reads of case requests (STYLE 4): anyone else's request is a 404 (SEC-12)."""

from datetime import timedelta

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from cases.crypto import a_number_hash
from cases.identifiers import InvalidANumber, normalize_a_number
from cases.models import CaseImport, CaseRequest, PartnerMembership
from core.errors import AccessRefused
from core.roles import PARTNER_INTAKE, coordinator_emails
from core.types import AnyUser


def partner_membership_for(*, user: AnyUser) -> PartnerMembership | None:
    """The organization a user does partner intake for: an active user in the role, or None."""
    if not (user.is_authenticated and user.is_active):
        return None
    membership = (
        PartnerMembership.objects.select_related("organization")
        .filter(user=user, user__groups__name=PARTNER_INTAKE)
        .first()
    )
    return membership


def partner_membership_get(*, user: AnyUser) -> PartnerMembership:
    membership = partner_membership_for(user=user)
    if membership is None:
        raise Http404("No such page.")
    return membership


def case_requests_for_partner(*, user: AnyUser) -> QuerySet[CaseRequest]:
    """The partner's own organization's requests; nothing at all for anyone else."""
    membership = partner_membership_for(user=user)
    if membership is None:
        return CaseRequest.objects.none()
    return CaseRequest.objects.filter(organization_id=membership.organization_id).select_related(
        "language", "court", "case_type"
    )


def case_request_get_for_partner(*, user: AnyUser, reference: str) -> CaseRequest:
    try:
        return case_requests_for_partner(user=user).get(reference=reference)
    except CaseRequest.DoesNotExist:
        raise AccessRefused(CaseRequest._meta.label_lower, "No such case request.") from None


def case_request_review_alert_recipients(*, case_id: int) -> tuple[CaseRequest | None, list[str]]:
    """A request still waiting for review and the coordinators to tell (active, with an email);
    (None, []) once it has been resolved or removed."""
    case = (
        CaseRequest.objects.filter(pk=case_id, status=CaseRequest.Status.REVIEW)
        .select_related("duplicate_of")
        .only("pk", "reference", "duplicate_of__reference")
        .first()
    )
    if case is None:
        return None, []
    return case, coordinator_emails()


def case_requests_by_a_number(*, user: AnyUser, term: str) -> QuerySet[CaseRequest] | None:
    """Exact A-number search through the keyed hash; None if the term is not an A-number or the
    user may not search by identifiers (a hit would tell them whose case it is)."""
    if not user.has_perm("cases.view_identifiers"):
        return None
    try:
        canonical = normalize_a_number(term)
    except InvalidANumber:
        return None
    return CaseRequest.objects.filter(a_number_hash=a_number_hash(canonical))


def case_request_languages_in_use() -> list[str]:
    """Codes of the languages some case request has, read as a loose index scan: one index probe
    per distinct language (a dozen) instead of reading every case (the admin's language filter)."""
    table = connection.ops.quote_name(CaseRequest._meta.db_table)
    sql = f"""
        WITH RECURSIVE used(code) AS (
            SELECT MIN(language_id) FROM {table}
            UNION ALL
            SELECT (SELECT MIN(language_id) FROM {table} WHERE language_id > used.code)
            FROM used WHERE used.code IS NOT NULL
        )
        SELECT code FROM used WHERE code IS NOT NULL
    """  # noqa: S608 - the table name comes from the model, not from input
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [code for (code,) in cursor.fetchall()]


def case_import_get_for_user(*, user: User, case_import_id: int) -> CaseImport:
    """An import is seen by the coordinator who uploaded it only; anyone else gets a 404. The file
    itself is never loaded here."""
    found = CaseImport.objects.defer("content").filter(pk=case_import_id, created_by=user).first()
    if found is None:
        raise AccessRefused(CaseImport._meta.label_lower, "No such import.")  # audited, SEC-24
    return found


def case_imports_stalled(*, quiet_for: timedelta) -> list[tuple[int, str]]:
    """(id, status) of jobs waiting for a task whose progress stopped this long ago: their message
    was lost (broker down) or their worker died. Re-enqueuing is safe: the tasks are idempotent."""
    active = (CaseImport.Status.CHECKING, CaseImport.Status.IMPORTING)
    return list(
        CaseImport.objects.filter(status__in=active, updated_at__lt=timezone.now() - quiet_for)
        .order_by("updated_at")
        .values_list("pk", "status")
    )
