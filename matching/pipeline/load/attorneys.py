"""Available attorneys and their skills, as arrays (``values_list``, no model instances)."""

import datetime
from collections import Counter
from collections.abc import Iterable
from types import SimpleNamespace

import numpy as np
from django.db import connection
from django.db.models import F, Q
from django.db.models.expressions import RawSQL
from django.utils import timezone

from matching.models import Match
from matching.pipeline.load.problem import CHUNK, pg_array
from matching.pipeline.score import Attorneys
from volunteers.models import AttorneyLanguage, AttorneyProfile, PracticeArea
from volunteers.timezones import DATE_MARGIN, attorney_paused, attorney_zone

_COLUMNS = (
    "pk", "latitude", "longitude", "travel_radius_miles", "remote_ok", "years_experience",
    "capacity", "active_cases", "remote_preferred", "detained_ok", "monthly_offer_cap",
    "paused_until", "time_zone", "home_zip",
)  # fmt: skip


# Up to FEW attorneys, their skill rows are asked for by a list of primary keys; on PostgreSQL
# up to MANY, by one array of them, read through the skill tables' attorney indexes (5.6k
# attorneys after a full run at 1M: 15-35 ms a table, against 100 ms for the subquery's hash
# join over every attorney's rows); above, by a subquery.
FEW = 2_000
MANY = 20_000


def _available_attorneys(today: datetime.date):
    # Serves from volunteers' attorney_available_idx (verified, below capacity). A pause ends on
    # the attorney's own date: this takes every attorney it may have ended for (DATE_MARGIN),
    # and load_attorneys drops those still paused where they are.
    return AttorneyProfile.objects.filter(
        Q(paused_until__isnull=True) | Q(paused_until__lte=today + DATE_MARGIN),
        verification=AttorneyProfile.Verification.VERIFIED,
        active_cases__lt=F("capacity"),
    )


def load_attorneys(
    today: datetime.date, *, now: datetime.datetime | None = None, pks: list[int] | None = None
) -> Attorneys:
    """Available attorneys with room this run: free capacity, and what is left of their monthly
    cap on new offers (:func:`offers_left_this_month`); those with none left are not loaded.
    ``pks`` restricts the load to those attorneys (the weekly digest's chunks)."""
    available = _available_attorneys(today)
    if pks is not None:
        available = available.filter(pk__in=pks)
    rows = list(available.order_by("pk").values_list(*_COLUMNS).iterator(chunk_size=CHUNK))
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(_COLUMNS)
    capacity_free = np.array(columns[6], dtype=np.int64) - np.array(columns[7], dtype=np.int64)
    free = capacity_free
    capped = [pk for pk, cap in zip(columns[0], columns[10], strict=True) if cap is not None]
    if capped:
        left = offers_left_this_month(capped, now=now or timezone.now())
        caps = np.array([left.get(pk, 0) for pk in columns[0]], dtype=np.int64)
        has_cap = np.array([cap is not None for cap in columns[10]], dtype=bool)
        free = np.where(has_cap, np.minimum(capacity_free, caps), capacity_free)
    keep = (free > 0) & ~_still_paused(columns, now=now or timezone.now())
    pk = np.array(columns[0], dtype=np.int64)[keep]
    position = {p: i for i, p in enumerate(pk.tolist())}
    cut = np.flatnonzero((free < capacity_free)[keep])  # positions whose cap bound this run
    # Few attorneys (a small run after a full one): their skills by primary key, index look-ups
    # whatever the planner believes of the tables; many: one subquery (a hash join).
    ids = _by_keys(pk)
    if ids is None:
        ids = available.values("pk")
    preferred, excluded = preference_rows(ids, position)

    def column(k: int, dtype) -> np.ndarray:
        values = [float(v) for v in columns[k]] if dtype is float else columns[k]
        return np.array(values, dtype=np.float64 if dtype is float else dtype)[keep]

    return Attorneys(
        pk=pk,
        latitude=column(1, float),
        longitude=column(2, float),
        radius=column(3, np.int64),
        remote_ok=column(4, bool),
        years=column(5, np.int64),
        free=free[keep],
        languages=_skill_rows(AttorneyLanguage, ids, position, "language_id", "proficiency"),
        practice_areas=_skill_rows(PracticeArea, ids, position, "case_type_id", "cases_handled"),
        remote_preferred=column(8, bool),
        detained_ok=column(9, bool),
        preferred_types=preferred,
        excluded_types=excluded,
        capped=_capped(cut, column(10, object), capacity_free[keep]),
    )


def _by_keys(pk: np.ndarray) -> list[int] | RawSQL | None:
    """The primary keys ``pk`` as the right side of an ``__in`` filter, when few (FEW, MANY)."""
    if len(pk) <= FEW:
        return pk.tolist()
    if len(pk) <= MANY and connection.vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (pg_array(pk),))
    return None


def _capped(cut: np.ndarray, caps: np.ndarray, capacity_free: np.ndarray) -> dict:
    return {int(i): (int(caps[i]), int(capacity_free[i])) for i in cut}


def _still_paused(columns: list, *, now: datetime.datetime) -> np.ndarray:
    """Whether each loaded attorney is still paused on their own date (attorney_paused)."""
    rows = zip(columns[11], columns[12], columns[13], strict=True)
    return np.array(
        [
            until is not None
            and attorney_paused(
                SimpleNamespace(paused_until=until, time_zone=tz, home_zip=z), now=now
            )
            for until, tz, z in rows
        ],
        dtype=bool,
    ).reshape(-1)


def _skill_rows(model, ids, position: dict[int, int], code: str, value: str) -> list:
    rows = model.objects.filter(attorney__in=ids).values_list("attorney_id", code, value)
    return [(position[a], c, v) for a, c, v in rows.iterator(chunk_size=CHUNK) if a in position]


def preference_rows(ids, position: dict[int, int]) -> tuple[list, list]:
    """(position, case type) rows of the preferred and of the excluded types of the attorneys
    ``ids`` (a queryset of pks or a list), for those in ``position``."""
    out = []
    for relation in (AttorneyProfile.preferred_types, AttorneyProfile.excluded_types):
        rows = relation.through.objects.filter(attorneyprofile_id__in=ids).values_list(
            "attorneyprofile_id", "casetype_id"
        )
        out.append([(position[a], c) for a, c in rows.iterator(chunk_size=CHUNK) if a in position])
    return out[0], out[1]


def preference_types(pks: Iterable[int]) -> tuple[dict[int, set[str]], dict[int, set[str]]]:
    """Preferred and excluded case types by attorney pk."""
    pks = list(pks)
    position = {pk: pk for pk in pks}
    preferred: dict[int, set[str]] = {}
    excluded: dict[int, set[str]] = {}
    for rows, into in zip(preference_rows(pks, position), (preferred, excluded), strict=True):
        for pk, code in rows:
            into.setdefault(pk, set()).add(code)
    return preferred, excluded


def offers_left_this_month(pks: list[int], *, now: datetime.datetime) -> dict[int, int]:
    """How many new offers each capped attorney may still get: their monthly cap minus the
    matches (proposals, requests, offers: any match row) created since the first of the month
    in the attorney's own time zone. Never negative."""
    attorneys = list(
        AttorneyProfile.objects.filter(pk__in=pks).only(
            "pk", "monthly_offer_cap", "time_zone", "home_zip"
        )
    )
    starts = {a.pk: _month_start(now, a) for a in attorneys}
    earliest = min(starts.values(), default=now)
    made = Counter(
        attorney
        for attorney, created in Match.objects.filter(
            attorney_id__in=pks, created_at__gte=earliest
        ).values_list("attorney_id", "created_at")
        if created >= starts[attorney]
    )
    return {a.pk: max(0, (a.monthly_offer_cap or 0) - made[a.pk]) for a in attorneys}


def _month_start(now: datetime.datetime, attorney: AttorneyProfile) -> datetime.datetime:
    local = timezone.localtime(now, attorney_zone(attorney))
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
