from dataclasses import dataclass

from django.db.models import Sum

from cases.models import CaseRequest
from matching.models import Match
from volunteers.models import AttorneyProfile, Pledge


@dataclass(frozen=True)
class SiteTotals:
    open_cases: int
    volunteers: int
    active_matches: int
    pledged_hours: int


def site_totals() -> SiteTotals:
    """The public figures on the home page: counts only, nothing about any person."""
    pledged = Pledge.objects.filter(
        status=Pledge.Status.APPROVED, kind=Pledge.Kind.HOURS
    ).aggregate(total=Sum("amount"))
    return SiteTotals(
        open_cases=CaseRequest.objects.filter(status=CaseRequest.Status.OPEN).count(),
        volunteers=AttorneyProfile.objects.filter(
            verification=AttorneyProfile.Verification.VERIFIED
        ).count(),
        active_matches=Match.objects.filter(status__in=Match.ACTIVE_STATUSES).count(),
        pledged_hours=pledged["total"] or 0,
    )
