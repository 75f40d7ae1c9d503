from io import StringIO

import pytest
from django.core.management import call_command

from mentoring.models import MentoringProfile, Mentorship

pytestmark = pytest.mark.django_db
SMALL = {"attorneys": 120, "cases": 20, "organizations": 4, "pledges": 2}


def test_seed_demo_adds_mentors_mentees_and_proposed_pairings_once():
    out = StringIO()
    call_command("seed_demo", stdout=out, **SMALL)
    assert MentoringProfile.objects.filter(mentee_capacity__gt=0).exists()
    assert MentoringProfile.objects.filter(wants_mentor=True).exists()
    proposals = Mentorship.objects.filter(status="proposed").count()
    assert proposals > 0 and "mentor pairings added" in out.getvalue()
    call_command("seed_demo", stdout=StringIO(), **SMALL)
    assert Mentorship.objects.count() == proposals
