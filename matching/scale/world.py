"""The scale rows a match history is planned over."""

import numpy as np
from django.core.management.base import CommandError
from django.utils import timezone

from cases.models import CaseRequest
from matching.models import Match
from matching.scale.common import SCALE_DOMAIN, SCALE_SUMMARY
from matching.scoring import AttorneyFacts
from volunteers.models import AttorneyLanguage, AttorneyProfile, PracticeArea


class _World:
    """Scale attorneys (facts, free places, speakers per language) and free scale cases."""

    attorney_pk: list[int]
    free: np.ndarray  # free places per attorney, in attorney_pk's order
    speakers: dict[str, list[int]]  # language code -> attorney indices
    facts: list[AttorneyFacts]
    cases: np.ndarray  # free scale case pks
    now: float  # a timestamp

    @classmethod
    def load(cls) -> "_World":
        world = cls()
        attorneys = AttorneyProfile.objects.filter(
            user__email__endswith=f"@{SCALE_DOMAIN}", verification="verified"
        ).order_by("pk")
        rows = list(
            attorneys.values_list(
                "pk", "capacity", "active_cases", "years_experience", "latitude", "longitude",
                "travel_radius_miles", "remote_ok",
            )
        )  # fmt: skip
        if not rows:
            raise CommandError("--matches needs scale attorneys: seed them first.")
        world.attorney_pk = [row[0] for row in rows]
        world.free = np.array([row[1] - row[2] for row in rows], dtype=np.int64)
        index = {row[0]: i for i, row in enumerate(rows)}
        languages: list[dict[str, int]] = [{} for _ in rows]
        areas: list[dict[str, int]] = [{} for _ in rows]
        world.speakers = {}
        skills = AttorneyLanguage.objects.filter(attorney__in=attorneys)
        for pk, code, level in skills.values_list("attorney_id", "language_id", "proficiency"):
            languages[index[pk]][code] = level
            world.speakers.setdefault(code, []).append(index[pk])
        practice = PracticeArea.objects.filter(attorney__in=attorneys)
        for pk, code, handled in practice.values_list(
            "attorney_id", "case_type_id", "cases_handled"
        ):
            areas[index[pk]][code] = handled
        world.facts = [
            AttorneyFacts(
                id=pk, languages=languages[i], practice_areas=areas[i], years_experience=years,
                latitude=float(lat), longitude=float(lon), travel_radius_miles=radius,
                remote_ok=remote, verified=True, available=True, free_capacity=0,
            )
            for i, (pk, _, _, years, lat, lon, radius, remote) in enumerate(rows)
        ]  # fmt: skip
        world.cases = np.array(
            CaseRequest.objects.filter(summary__startswith=SCALE_SUMMARY, status="open")
            .exclude(pk__in=Match.objects.values("case_id"))
            .order_by("pk")
            .values_list("pk", flat=True),
            dtype=np.int64,
        )
        world.now = timezone.now().timestamp()
        return world
