"""Permission-scoped reads of matches.

An attorney reaches a match only through these: anyone else's match, or any match while the
attorney is not verified, is a 404 (SEC-11, SEC-12), never a 403 that would confirm it exists.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import (
    Case,
    CharField,
    Exists,
    ExpressionWrapper,
    F,
    FilteredRelation,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import (
    ASin,
    Cast,
    Coalesce,
    Cos,
    Floor,
    Greatest,
    Least,
    Power,
    Radians,
    Sin,
    Sqrt,
)
from django.utils import timezone

from core.errors import AccessRefused
from core.models import DomainEvent
from matching.models import Match
from volunteers.models import AttorneyProfile

# What an offer or case page shows beside the match: one query, however many rows.
_PAGE_RELATIONS = ("case__language", "case__court", "case__case_type", "attorney")


def match_get_for_attorney(*, user, match_id) -> Match:
    """The match if it belongs to this user's verified attorney profile; Http404 otherwise."""
    try:
        return _attorney_matches(user).get(pk=int(match_id))
    except (Match.DoesNotExist, TypeError, ValueError, OverflowError):
        raise AccessRefused(Match._meta.label_lower, "No such match.") from None


def offers_for_attorney(*, user) -> QuerySet[Match]:
    """Open offers, the one expiring first at the top."""
    return _attorney_matches(user).filter(status=Match.Status.OFFERED).order_by("expires_at", "pk")


def active_cases_for_attorney(*, user) -> QuerySet[Match]:
    """Accepted matches (the attorney's cases), the nearest hearing first."""
    return (
        _attorney_matches(user)
        .filter(status=Match.Status.ACCEPTED)
        .order_by("case__next_hearing_date", "pk")
    )


def offers_overdue(*, now=None) -> QuerySet[Match]:
    """Offers past their deadline, for the expiry task (served by match_offer_expiry_idx)."""
    now = now or timezone.now()
    return (
        Match.objects.filter(status=Match.Status.OFFERED, expires_at__lte=now)
        .order_by("expires_at")
        .only("pk", "attorney_id", "case_id")
    )


def offers_due_for_reminder(*, now=None) -> list[int]:
    """Ids of offers expiring within MATCH_OFFER_REMINDER_HOURS that were not reminded yet."""
    now = now or timezone.now()
    horizon = now + timedelta(hours=settings.MATCH_OFFER_REMINDER_HOURS)
    due = Match.objects.filter(
        status=Match.Status.OFFERED, expires_at__gt=now, expires_at__lte=horizon
    ).exclude(_has_event("match.reminded"))
    return list(due.order_by("expires_at").values_list("pk", flat=True))


def offers_not_notified(*, offered_before) -> list[int]:
    """Ids of open offers whose new-offer email never went out (the broker lost or refused it)."""
    pending = Match.objects.filter(
        status=Match.Status.OFFERED, offered_at__lte=offered_before, expires_at__gt=timezone.now()
    ).exclude(_has_event("match.offer_notified"))
    return list(pending.order_by("offered_at").values_list("pk", flat=True))


def _has_event(verb: str) -> Exists:
    """The match already has an event with this verb: the log remembers what was sent."""
    return Exists(
        DomainEvent.objects.filter(
            verb=verb,
            target_type=ContentType.objects.get_for_model(Match),
            target_id=Cast(OuterRef("pk"), CharField()),
        )
    )


def _attorney_matches(user) -> QuerySet[Match]:
    if user is None or not getattr(user, "is_authenticated", False):
        return Match.objects.none()
    return Match.objects.filter(
        attorney__user=user, attorney__verification=AttorneyProfile.Verification.VERIFIED
    ).select_related(*_PAGE_RELATIONS)


# ---------------------------------------------------------------------------------------------
# The coordinator's "next best attorneys" (matching.admin_views.next_best_attorneys)

# Miles per radian of great-circle arc: matching.scoring.EARTH_RADIUS_MILES.
_RADIUS = 3958.8


def attorneys_ranked_for_case(*, case, cell, weights, today) -> QuerySet:
    """Every attorney who passes the hard constraints for this case, best affinity first.

    The filters are matching.scoring.eligibility in SQL (verified, not paused, a free place,
    speaks one of the client's languages or the relay language, takes the case type, within the
    travel radius unless both sides accept remote work) plus "never paired with this case";
    ``sql_affinity`` is matching.scoring.affinity in SQL. The caller re-scores the rows it reads
    with the pure scorer: floating point may put a distance a hair either side of a whole point,
    so the SQL radius test is a little generous and the SQL score can be one point off.
    """
    # scoring._language_routes' order: main language, other languages (all direct), relay.
    routes = [("direct", cell.language, 100)]
    routes += [(f"other{i}", code, 100) for i, code in enumerate(cell.other_languages)]
    if cell.relay_language:
        routes.append(("relay", cell.relay_language, weights.relay_percent))
    relations = {
        f"speaks_{name}": FilteredRelation(
            "language_skills", condition=Q(language_skills__language_id=code)
        )
        for name, code, _ in routes
    }
    relations["area"] = FilteredRelation(
        "practice_area_links", condition=Q(practice_area_links__case_type_id=cell.case_type)
    )
    speaks = Q()
    for name, _, _ in routes:
        speaks |= Q(**{f"speaks_{name}__proficiency__gte": 1})
    miles = _miles_sql(cell.court_latitude, cell.court_longitude)
    within = Q(miles__lte=F("travel_radius_miles") + 0.01)
    if cell.remote_ok:
        within |= Q(remote_ok=True)
    return (
        AttorneyProfile.objects.annotate(**relations)
        .filter(
            Q(paused_until__isnull=True) | Q(paused_until__lte=today),
            speaks,
            verification=AttorneyProfile.Verification.VERIFIED,
            active_cases__lt=F("capacity"),
            area__isnull=False,
        )
        .exclude(pk__in=Match.objects.filter(case=case).values("attorney_id"))
        .annotate(miles=miles)
        .filter(within)
        .annotate(sql_affinity=_affinity_sql(routes, cell, weights))
        .order_by("-sql_affinity", "pk")
    )


def _miles_sql(latitude: float, longitude: float):
    """scoring.haversine_miles from the attorney to the court, operation for operation (the
    same IEEE doubles and libm functions, so in practice the same result to the bit)."""
    lat, lon = (Cast(F(name), FloatField()) for name in ("latitude", "longitude"))
    phi1, phi2 = Radians(lat), Radians(Value(latitude))
    dphi, dlambda = phi2 - phi1, Radians(Value(longitude) - lon)
    a = Power(Sin(dphi / 2), 2) + Cos(phi1) * Cos(phi2) * Power(Sin(dlambda / 2), 2)
    return ExpressionWrapper(
        Value(2 * _RADIUS) * ASin(Sqrt(Least(Value(1.0), a))), output_field=FloatField()
    )


def _affinity_sql(routes, cell, weights):
    """scoring.affinity's total: language + distance + experience points, integers."""
    integer = IntegerField()
    language = Greatest(
        *(
            Coalesce(
                Least(F(f"speaks_{name}__proficiency"), 4) * weights.language_per_level
                * percent / 100,
                0,
                output_field=integer,
            )
            for name, _, percent in routes
        ),
        Value(0),
    )  # fmt: skip
    half = weights.distance_half_miles
    near = Cast(
        Floor(Value(float(weights.distance_max * half)) / (half + Greatest(F("miles"), 0.0))),
        integer,
    )
    distance = near
    if cell.remote_ok:
        distance = Case(
            When(remote_ok=True, then=Greatest(near, Value(weights.remote))), default=near
        )
    cases = Greatest(Coalesce(F("area__cases_handled"), 0), 0)
    experience = weights.experience_max * cases / (cases + weights.experience_half_cases)
    years = Least(Greatest(F("years_experience"), 0) * weights.years_per_year, weights.years_max)
    return ExpressionWrapper(language + distance + experience + years, output_field=integer)
