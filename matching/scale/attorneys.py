"""Scale attorneys: verified, near a court, with languages and practice areas."""

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
from django.contrib.auth import get_user_model
from django.utils import timezone

from core.demo import ATTORNEY_LANGUAGES, CASE_TYPES, COURT_WEIGHTS
from matching.scale.common import SCALE_DOMAIN, copy_rows
from volunteers.models import AttorneyLanguage, AttorneyProfile, PracticeArea


@dataclass(frozen=True, eq=False, slots=True)
class AttorneyDraw:
    """n attorneys drawn by :func:`draw_attorneys`: arrays by attorney, skill rows by position."""

    home_court: np.ndarray  # index into the courts that are not detained-only
    latitude: np.ndarray
    longitude: np.ndarray
    radius: np.ndarray
    remote: np.ndarray
    remote_preferred: np.ndarray
    detained_ok: np.ndarray
    years: np.ndarray
    capacity: np.ndarray
    languages: list[tuple[int, str, int]]  # (position, language, proficiency)
    areas: list[tuple[int, str, int]]  # (position, case type, cases handled)
    preferred: list[tuple[int, str]]  # (position, case type)
    excluded: list[tuple[int, str]]


def draw_attorneys(rng: np.random.Generator, n: int, courts: list[tuple]) -> AttorneyDraw:
    """Draw n attorneys near the courts (pk, code, zip, latitude, longitude, detained_only),
    without the database: seed_attorneys writes these draws, bench_solver_scale scores them."""
    home = [c for c in courts if not c[5]]
    weights = np.array([COURT_WEIGHTS.get(c[1], 10) for c in home], dtype=float)
    court = rng.choice(len(home), size=n, p=weights / weights.sum())
    # Within ~30 miles of the court's city: 0.43 degrees of latitude is about 30 miles.
    lat = np.array([float(home[c][3]) for c in court]) + rng.uniform(-0.3, 0.3, n)
    lon = np.array([float(home[c][4]) for c in court]) + rng.uniform(-0.3, 0.3, n)
    radius = rng.choice([25, 50, 50, 100, 250], size=n)
    remote = rng.random(n) < 0.5
    # Preferences (issue 13): a fifth of the remote-capable prefer remote work, a quarter of all
    # take no detained cases; preferred and excluded types are drawn per attorney below.
    remote_preferred = remote & (rng.random(n) < 0.2)
    detained_ok = rng.random(n) >= 0.25
    years = rng.choice([1, 2, 3, 5, 8, 12, 20, 30], size=n)
    capacity = rng.choice([1, 2, 3, 5], size=n, p=[0.45, 0.30, 0.15, 0.10])
    languages = list(_languages(rng, range(n)))
    areas = list(_areas(rng, range(n)))
    types = list(CASE_TYPES)
    chosen = []
    for share in (0.3, 0.1):  # preferred, then excluded types
        picked = np.flatnonzero(rng.random(n) < share)
        codes = rng.integers(0, len(types), size=len(picked))
        chosen.append([(i, types[c]) for i, c in zip(picked.tolist(), codes.tolist(), strict=True)])
    return AttorneyDraw(
        court, lat, lon, radius, remote, remote_preferred, detained_ok, years, capacity,
        languages, areas, chosen[0], chosen[1],
    )  # fmt: skip


def seed_attorneys(rng: np.random.Generator, n: int, courts: list[tuple]) -> None:
    offset = get_user_model().objects.filter(email__endswith=f"@{SCALE_DOMAIN}").count()
    home = [c for c in courts if not c[5]]
    d = draw_attorneys(rng, n, courts)
    now = timezone.now()
    emails = [f"attorney{offset + i:07d}@{SCALE_DOMAIN}" for i in range(n)]
    copy_rows(
        get_user_model(),
        ["username", "email", "password", "first_name", "last_name", "is_active", "date_joined"],
        ((e, e, "!", "Scale", f"Attorney {e[8:15]}", True, now) for e in emails),
    )
    user_ids = dict(
        get_user_model()
        .objects.filter(email__endswith=f"@{SCALE_DOMAIN}")
        .values_list("email", "pk")
    )
    copy_rows(
        AttorneyProfile,
        ["user_id", "verification", "verified_at", "home_zip", "latitude", "longitude",
         "travel_radius_miles", "remote_ok", "years_experience", "capacity", "active_cases",
         "remote_preferred", "detained_ok"],
        (
            (user_ids[emails[i]], "verified", now, home[d.home_court[i]][2],
             round(float(d.latitude[i]), 5), round(float(d.longitude[i]), 5), int(d.radius[i]),
             bool(d.remote[i]), int(d.years[i]), int(d.capacity[i]), 0,
             bool(d.remote_preferred[i]), bool(d.detained_ok[i]))
            for i in range(n)
        ),
    )  # fmt: skip
    profiles = dict(
        AttorneyProfile.objects.filter(user__email__endswith=f"@{SCALE_DOMAIN}").values_list(
            "user_id", "pk"
        )
    )
    attorney = [profiles[user_ids[e]] for e in emails]
    copy_rows(
        AttorneyLanguage,
        ["attorney_id", "language_id", "proficiency"],
        ((attorney[i], code, level) for i, code, level in d.languages),
    )
    copy_rows(
        PracticeArea,
        ["attorney_id", "case_type_id", "cases_handled"],
        ((attorney[i], code, handled) for i, code, handled in d.areas),
    )
    for relation, rows in (
        (AttorneyProfile.preferred_types, d.preferred),
        (AttorneyProfile.excluded_types, d.excluded),
    ):
        copy_rows(
            relation.through,
            ["attorneyprofile_id", "casetype_id"],
            ((attorney[i], code) for i, code in rows),
        )


def _languages(rng: np.random.Generator, attorneys: Iterable[int]) -> Iterable[tuple]:
    for pk in attorneys:
        yield pk, "eng", 4
        for code, share, proficiency_weights in ATTORNEY_LANGUAGES:
            if rng.random() < share:
                p = np.array(proficiency_weights, dtype=float)
                yield pk, code, int(rng.choice([4, 3, 2, 1], p=p / p.sum()))


def _areas(rng: np.random.Generator, attorneys: Iterable[int]) -> Iterable[tuple]:
    types = list(CASE_TYPES)
    for pk in attorneys:
        chosen = {"asylum"} if rng.random() < 0.8 else set()
        chosen |= {types[i] for i in rng.choice(len(types), rng.integers(1, 5), replace=False)}
        for code in sorted(chosen):
            yield pk, code, int(rng.choice([0, 1, 3, 8, 25]))
