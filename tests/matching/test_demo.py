"""seed_demo's placements, check-ins and outcomes (issue 16): what `make run` shows."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Q

from cases.models import CaseRequest
from matching.models import Match, StatusRequest
from volunteers.models import AttorneyProfile

pytestmark = pytest.mark.django_db
SMALL = {"attorneys": 40, "cases": 200, "organizations": 6, "pledges": 10}


def _seed():
    call_command("seed_demo", stdout=StringIO(), **SMALL)


def test_the_demo_has_outcomes_and_check_ins_in_every_state():
    _seed()
    closed = CaseRequest.objects.filter(status="closed").exclude(outcome="")
    assert closed.count() > 0
    assert Match.objects.filter(status=Match.Status.COMPLETED).count() == closed.count()
    requests = StatusRequest.objects.all()
    assert requests.filter(answered_at__isnull=False).exists()
    assert requests.filter(answer=StatusRequest.Answer.NEED_HELP).exists()
    assert requests.filter(answered_at__isnull=True, reminded_at__isnull=False).exists()
    # The capacity counter still equals each attorney's active matches.
    active = Count("matches", filter=Q(matches__status__in=Match.ACTIVE_STATUSES))
    for attorney in AttorneyProfile.objects.annotate(n=active):
        assert attorney.active_cases == attorney.n


def test_seeding_twice_adds_no_placements():
    _seed()
    counts = (Match.objects.count(), StatusRequest.objects.count())
    _seed()
    assert (Match.objects.count(), StatusRequest.objects.count()) == counts
