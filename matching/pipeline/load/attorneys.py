"""Available attorneys and their skills, as arrays (``values_list``, no model instances)."""

import datetime

import numpy as np
from django.db.models import F, Q

from matching.pipeline.load.problem import CHUNK
from matching.pipeline.score import Attorneys
from volunteers.models import AttorneyLanguage, AttorneyProfile, PracticeArea


def _available_attorneys(today: datetime.date):
    # Serves from volunteers' attorney_available_idx (verified, below capacity).
    return AttorneyProfile.objects.filter(
        Q(paused_until__isnull=True) | Q(paused_until__lte=today),
        verification=AttorneyProfile.Verification.VERIFIED,
        active_cases__lt=F("capacity"),
    )


def load_attorneys(today: datetime.date) -> Attorneys:
    available = _available_attorneys(today)
    rows = list(
        available.order_by("pk")
        .values_list(
            "pk",
            "latitude",
            "longitude",
            "travel_radius_miles",
            "remote_ok",
            "years_experience",
            "capacity",
            "active_cases",
        )
        .iterator(chunk_size=CHUNK)
    )
    columns = list(zip(*rows, strict=True)) if rows else [()] * 8
    pk = np.array(columns[0], dtype=np.int64)
    position = {p: i for i, p in enumerate(pk.tolist())}
    ids = available.values("pk")
    languages = [
        (position[a], code, level)
        for a, code, level in AttorneyLanguage.objects.filter(attorney__in=ids)
        .values_list("attorney_id", "language_id", "proficiency")
        .iterator(chunk_size=CHUNK)
        if a in position
    ]
    areas = [
        (position[a], code, handled)
        for a, code, handled in PracticeArea.objects.filter(attorney__in=ids)
        .values_list("attorney_id", "case_type_id", "cases_handled")
        .iterator(chunk_size=CHUNK)
        if a in position
    ]
    return Attorneys(
        pk=pk,
        latitude=np.array([float(v) for v in columns[1]], dtype=np.float64),
        longitude=np.array([float(v) for v in columns[2]], dtype=np.float64),
        radius=np.array(columns[3], dtype=np.int64),
        remote_ok=np.array(columns[4], dtype=bool),
        years=np.array(columns[5], dtype=np.int64),
        free=np.array(columns[6], dtype=np.int64) - np.array(columns[7], dtype=np.int64),
        languages=languages,
        practice_areas=areas,
    )
