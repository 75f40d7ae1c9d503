"""REL-7: a short load run, the one CI makes (`make load-smoke`): 10 visitors for 20 seconds
against gunicorn and a Celery worker on a small seeded world, and not one failed request.
Timings are not judged here; `make load` runs the full 3 minutes and prints them."""

import pytest
from django.core.management import call_command

from cases.models import ImmigrationCourt

pytestmark = [pytest.mark.load, pytest.mark.django_db(transaction=True)]


def test_a_short_load_run_ends_without_a_failed_request(capsys, settings):
    # The server runs with the real password hashers; the tests' fast one would not sign in.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    if not ImmigrationCourt.objects.exists():
        call_command("load_reference_data")
    call_command("seed_scale", attorneys=60, cases=600, matches=300)

    call_command("load_run", users=10, seconds=20, workers=2, check=True)

    # How many requests fit in 20 s depends on the machine; that some were made and none
    # failed (check=True raises otherwise) does not.
    out = capsys.readouterr().out
    aggregated = next(line for line in out.splitlines() if line.startswith("Aggregated"))
    assert int(aggregated.split()[1]) > 0
