"""Volunteer interpreters for the demo world (seed_demo), through the services the pages call.

Demo interpreters cannot sign in (unusable passwords), like the demo attorneys, except the few
core.demo_volunteers enables under DEBUG; they are verified by the demo coordinator, and a team
run proposes what it can for the review queue.
"""

import secrets

from django.contrib.auth import get_user_model

from core.demo import DEMO_DOMAIN
from interpreters.models import InterpreterProfile
from interpreters.services import interpreter_profile_save, interpreter_verify, team_run

# (first, last, ZIP, languages with proficiency): languages immigration courts lack most.
DEMO_INTERPRETERS = [
    ("Ixchel", "Tzoc", "90057", {"quc": 4, "spa": 4}),  # Los Angeles
    ("Baltazar", "Ramirez", "10032", {"mam": 4, "spa": 4}),  # New York
    ("Rosalia", "Pascual", "33142", {"kjb": 4, "spa": 3, "eng": 3}),  # Miami
    ("Marie-Carmel", "Joseph", "33150", {"hat": 4, "eng": 4, "fra": 4}),  # Miami
    ("Esvin", "Caal", "77036", {"kek": 4, "spa": 4}),  # Houston
    ("Juana", "Tum", "94110", {"quc": 4, "mam": 3, "spa": 4}),  # San Francisco
]


def interpreters_demo_seed(*, coordinator) -> dict[str, int]:
    """Idempotent: interpreters are created once (by email); a second team run finds the teams
    already proposed."""
    user_model = get_user_model()
    created = 0
    for first, last, zip_code, skills in DEMO_INTERPRETERS:
        email = f"{first.lower()}.{last.lower()}.interpreter@{DEMO_DOMAIN}"
        if InterpreterProfile.objects.filter(user__email=email).exists():
            continue
        user = user_model.objects.create(
            username=email, email=email, password="!" + secrets.token_urlsafe(20)
        )
        profile = interpreter_profile_save(
            user=user,
            first_name=first,
            last_name=last,
            phone="",
            home_zip=zip_code,
            travel_radius_miles=60,
            remote_ok=True,
            capacity=1,
            skills=list(skills.items()),
        )
        interpreter_verify(interpreter=profile, actor=coordinator)
        created += 1
    return {"interpreters": created, "interpreter teams": team_run(actor=coordinator).teams}
