from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from cases.models import CaseRequest
from core.demo import INDIGENOUS_WITH_SPANISH_RELAY, build_world
from pledges.models import Pledge
from volunteers.models import AttorneyLanguage, AttorneyProfile, Organization

pytestmark = pytest.mark.django_db
SMALL = {"attorneys": 25, "cases": 150, "organizations": 6, "pledges": 10}


def _counts():
    return {
        "users": get_user_model().objects.count(),
        "attorneys": AttorneyProfile.objects.count(),
        "languages": AttorneyLanguage.objects.count(),
        "cases": CaseRequest.objects.count(),
        "case_languages": CaseRequest.other_languages.through.objects.count(),
        "organizations": Organization.objects.count(),
        "pledges": Pledge.objects.count(),
    }


def _seed(**extra):
    out = StringIO()
    call_command("seed_demo", stdout=out, **{**SMALL, **extra})
    return out.getvalue()


@pytest.mark.smoke
def test_seed_demo_twice_gives_the_same_counts():
    first_output = _seed()
    first = _counts()
    second_output = _seed()
    assert _counts() == first
    assert first == {**first, "attorneys": 25, "cases": 150, "organizations": 6, "pledges": 10}
    assert first["case_languages"] > 0  # some people speak other languages, stored once
    assert "Coordinator account: coordinator@" in first_output
    assert "password unchanged" in second_output
    assert "demo_coordinator` shows it" in second_output


def test_seed_demo_creates_a_working_coordinator():
    output = _seed()
    password = output.split("coordinator@demo.probono.test / ")[1].split()[0]
    user = get_user_model().objects.get(username="coordinator@demo.probono.test")
    assert user.is_staff and not user.is_superuser
    assert user.check_password(password)
    assert user.has_perm("cases.view_caserequest")
    assert user.has_perm("cases.view_identifiers")


def test_demo_cases_carry_invented_identifiers():
    _seed()
    case = CaseRequest.objects.first()
    assert case.respondent_name.endswith("(demo)")
    assert case.a_number.startswith("999") and len(case.a_number) == 9
    assert CaseRequest.objects.exclude(a_number_hash=None).count() == SMALL["cases"]


def test_the_same_seed_describes_the_same_world():
    from datetime import date

    one = build_world(seed=7, today=date(2026, 11, 28), **SMALL)
    two = build_world(seed=7, today=date(2026, 11, 28), **SMALL)
    other = build_world(seed=8, today=date(2026, 11, 28), **SMALL)
    assert one == two
    assert [c.reference for c in one.cases] != [c.reference for c in other.cases]


def test_demo_cases_follow_the_domain_distributions():
    from datetime import date

    world = build_world(
        seed=1, today=date(2026, 11, 28), attorneys=200, cases=3000, organizations=20, pledges=0
    )
    spanish = sum(c.language == "spa" for c in world.cases) / len(world.cases)
    assert 0.7 < spanish < 0.85
    assert all(c.detained for c in world.cases if c.case_type == "bond")
    assert all(c.relay_language in (None, "spa") for c in world.cases)
    indigenous = [c for c in world.cases if c.language in INDIGENOUS_WITH_SPANISH_RELAY]
    with_spanish = sum("spa" in c.other_languages for c in indigenous) / len(indigenous)
    assert 0.25 < with_spanish < 0.55
    haitian = [c for c in world.cases if c.language == "hat"]
    assert any("fra" in c.other_languages for c in haitian)
    assert all(c.language not in c.other_languages for c in world.cases)
    assert len({c.court for c in world.cases}) > 50


def test_seed_demo_rejects_a_negative_count():
    with pytest.raises(CommandError, match="--cases must be between"):
        call_command("seed_demo", cases=-1, stdout=StringIO())
    assert CaseRequest.objects.count() == 0


def test_demo_attorneys_find_cases_on_their_board_and_some_asked_for_one():
    """The opportunity board (issue 13): open demo cases fit demo attorneys' boards, and the
    review queue shows a few requests by attorneys."""
    from matching.board import BoardFilters, board_page, board_scope
    from matching.models import Match

    _seed()
    requested = Match.objects.filter(source=Match.Source.ATTORNEY, status="proposed")
    assert requested.count() == 3
    attorney = requested.first().attorney
    from core.demo import DEMO_DOMAIN

    assert attorney.user.email.endswith("@" + DEMO_DOMAIN)
    verified = AttorneyProfile.objects.filter(verification="verified").exclude(
        matches__source=Match.Source.ATTORNEY
    )
    boards = [
        board_page(scope=board_scope(attorney=a), filters=BoardFilters(), size=5).rows
        for a in verified[:10]
    ]
    assert any(boards)
    _seed()  # a second run asks for nothing more
    assert requested.count() == 3


def test_demo_attorneys_carry_preferences():
    _seed(attorneys=60)
    profiles = AttorneyProfile.objects.filter(user__email__endswith="demo.probono.test")
    assert profiles.filter(remote_preferred=True).exists()
    assert profiles.filter(detained_ok=False).exists()
    assert profiles.filter(monthly_offer_cap__isnull=False).exists()
    assert profiles.filter(preferred_types__isnull=False).exists()
    assert profiles.filter(excluded_types__isnull=False).exists()
    assert not profiles.filter(remote_ok=False, remote_preferred=True).exists()


def test_every_detained_demo_case_names_its_facility():
    """The intake forms ask a detained person's facility (cases.validation): the demo world is
    one a coordinator can edit without first filling it in."""
    _seed()
    detained = CaseRequest.objects.filter(detained=True)
    assert detained.exists()
    assert not detained.filter(detention_facility="").exists()
    assert not CaseRequest.objects.filter(detained=False).exclude(detention_facility="").exists()
    held = CaseRequest.objects.filter(court__code="eloy", detained=True).first()
    assert held is None or held.detention_facility == "Eloy Detention Center"


def test_demo_hearings_fall_on_weekdays():
    """Found walking a fresh clone: an offer showed a hearing on "Sun 20 Aug 2028" (two in seven
    demo hearings fell on a weekend); immigration courts sit Monday to Friday."""
    _seed()
    days = {d.weekday() for d in CaseRequest.objects.values_list("next_hearing_date", flat=True)}
    assert days and days <= {0, 1, 2, 3, 4}
