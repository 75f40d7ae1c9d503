"""Mentors and mentees for the demo world (seed_demo), through the services the pages call."""

import random

from mentoring.models import MentoringProfile
from mentoring.services import mentoring_preferences_set, mentoring_run
from volunteers.models import AttorneyProfile

DEMO_MENTORS = 15
DEMO_MENTEES = 20
NOTES = (
    "My first asylum merits hearing is coming up; I have never examined a witness in court.",
    "I practise family law and took a bond hearing; I would like someone to check my plan.",
    "Preparing an I-589 for the first time: what evidence do judges look for?",
    "Special immigrant juvenile status: how the state-court order and the I-360 fit together.",
    "",
)


def mentoring_demo_seed(*, seed: int) -> dict[str, int]:
    """Experienced verified attorneys offer to mentor, new ones ask for a mentor, and a mentor
    matching run proposes pairs for the coordinator's review queue. Idempotent: once anyone has
    mentoring wishes, nobody's are changed, and a second run proposes nothing new."""
    rng = random.Random(seed)  # noqa: S311 (demo data: reproducible, not secret)
    if MentoringProfile.objects.exists():  # seeded before: the wishes stay as they are
        return {"mentors": 0, "mentees": 0, "mentor pairings": mentoring_run().proposals}
    verified = AttorneyProfile.objects.filter(verification="verified")
    mentors = list(verified.filter(years_experience__gte=10).order_by("pk")[:DEMO_MENTORS])
    mentees = list(verified.filter(years_experience__lte=2).order_by("pk")[:DEMO_MENTEES])
    for attorney in mentors:
        mentoring_preferences_set(
            attorney=attorney,
            wants_mentor=False,
            request_note="",
            mentee_capacity=rng.randint(1, 3),
        )
    for attorney in mentees:
        mentoring_preferences_set(
            attorney=attorney, wants_mentor=True, request_note=rng.choice(NOTES), mentee_capacity=0
        )
    proposals = mentoring_run().proposals
    return {"mentors": len(mentors), "mentees": len(mentees), "mentor pairings": proposals}
