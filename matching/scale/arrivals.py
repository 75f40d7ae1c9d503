"""Newcomers for bench_time_to_proposal: an attorney waiting for verification, like one the
backlog needs, and the intake data of a case request a free attorney can take.

Benchmark fixtures, not services: the pending attorney's rows are written as seed_scale writes
its world; what is timed (the verification, the intake) goes through the services.
"""

import secrets
from datetime import timedelta

import numpy as np
from django.contrib.auth import get_user_model
from django.db.models import F
from django.utils import timezone

from cases.models import ImmigrationCourt
from matching.pipeline.score import Attorneys
from matching.scale.common import SCALE_DOMAIN
from matching.scoring import MIN_PROFICIENCY, distance_matrix_miles
from volunteers.models import AttorneyLanguage, AttorneyProfile, BarAdmission, PracticeArea


class NoTaker(ValueError):
    """Nobody with free capacity could take a case request (their reach holds no court)."""


def _courts() -> list[tuple]:
    return list(
        ImmigrationCourt.objects.filter(active=True)
        .order_by("pk")
        .values_list("pk", "code", "zip_code", "latitude", "longitude", "detained_only")
    )


def pending_attorney(rng: np.random.Generator) -> AttorneyProfile:
    """A newcomer like a random attorney of the world whose capacity is all taken (so like
    someone the backlog needs): same place, reach, languages and practice areas, signed up with
    an active bar admission and waiting for a coordinator's verification."""
    full = AttorneyProfile.objects.filter(
        verification=AttorneyProfile.Verification.VERIFIED, active_cases=F("capacity")
    ).values_list("pk", flat=True)
    pks = list(full.order_by("pk")[:10_000])
    if not pks:
        raise ValueError("No attorney has all of their capacity taken: run matching first.")
    source = AttorneyProfile.objects.get(pk=pks[int(rng.integers(len(pks)))])
    tag = f"{timezone.now():%Y%m%d%H%M%S%f}"
    email = f"newcomer{tag}@{SCALE_DOMAIN}"
    user = get_user_model().objects.create_user(username=email, email=email)  # no password
    attorney = AttorneyProfile.objects.create(
        user=user,
        verification=AttorneyProfile.Verification.PENDING,
        **{name: getattr(source, name) for name in _COPIED},
    )
    AttorneyLanguage.objects.bulk_create(
        AttorneyLanguage(attorney=attorney, language_id=code, proficiency=level)
        for code, level in AttorneyLanguage.objects.filter(attorney=source).values_list(
            "language_id", "proficiency"
        )
    )
    PracticeArea.objects.bulk_create(
        PracticeArea(attorney=attorney, case_type_id=code, cases_handled=handled)
        for code, handled in PracticeArea.objects.filter(attorney=source).values_list(
            "case_type_id", "cases_handled"
        )
    )
    attorney.preferred_types.set(source.preferred_types.all())
    attorney.excluded_types.set(source.excluded_types.all())
    BarAdmission.objects.create(attorney=attorney, jurisdiction="NY", bar_number=tag[-12:])
    return attorney


_COPIED = (
    "home_zip", "latitude", "longitude", "travel_radius_miles", "remote_ok", "years_experience",
    "capacity", "remote_preferred", "detained_ok",
)  # fmt: skip


def case_data_for(attorneys: Attorneys, rng: np.random.Generator) -> dict:
    """Intake data (as the coordinator's form posts it) of a case that one of ``attorneys``
    (available, with free capacity) can take: one of their languages and practice areas, at
    the court nearest to them, remote handling allowed."""
    for i in rng.permutation(len(attorneys)).tolist():
        languages = [
            c for at, c, level in attorneys.languages if at == i and level >= MIN_PROFICIENCY
        ]
        excluded = {code for at, code in attorneys.excluded_types if at == i}
        # Not bond hearings: those are for detained people, and this case is not detained.
        excluded.add("bond")
        areas = [c for at, c, _ in attorneys.practice_areas if at == i and c not in excluded]
        court = _court_in_reach(attorneys, i)
        if languages and areas and court:
            return _case_data(str(rng.choice(languages)), str(rng.choice(areas)), court)
    raise NoTaker("No attorney with free capacity takes any case.")


def _court_in_reach(attorneys: Attorneys, i: int) -> str | None:
    """The code of the court nearest to attorney i, among those that are not detained-only,
    if they may take its (remote-capable) cases: within their radius, or remote work."""
    courts = [c for c in _courts() if not c[5]]
    miles = distance_matrix_miles(
        attorneys.latitude[i : i + 1],
        attorneys.longitude[i : i + 1],
        np.array([float(c[3]) for c in courts]),
        np.array([float(c[4]) for c in courts]),
    )[0]
    nearest = int(np.argmin(miles))
    if miles[nearest] > attorneys.radius[i] and not attorneys.remote_ok[i]:
        return None
    return courts[nearest][1]


def _case_data(language: str, case_type: str, court: str) -> dict:
    today = timezone.localdate()
    return {
        "respondent_name": "Bench Respondent",
        # Fresh on every call (not from the seeded draw): each run of the benchmark adds cases.
        "a_number": f"{10**8 + secrets.randbelow(9 * 10**8):09d}",
        "contact_route": "Call the clinic",
        "country_of_nationality": "GT",
        "language": language,
        "court": court,
        "case_type": case_type,
        "detained": "no",
        "remote_ok": "yes",
        "next_hearing_date": (today + timedelta(days=30)).isoformat(),
        "next_hearing_type": "master",
        "summary": "Benchmark case request.",
    }
