"""The pledge wall (issue 12 #11): pledged and placed side by side, a table that fits a phone,
and progress drawn as a server-side SVG."""

import re

import pytest
from django.urls import reverse

from matching.services import match_accept, match_attest_no_conflict
from pledges.charts import WIDTH, wall_progress_chart
from pledges.selectors import KindTotals
from tests.factories import PledgeFactory, affiliate
from tests.pledges.helpers import fresh_cache  # noqa: F401
from tests.volunteers.offers import offer_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fresh_cache")]
WALL = reverse("pledges:wall")


@pytest.fixture
def placed(att_a, coord):
    """A nonprofit pledged 4 cases; one of its attorneys accepted one."""
    pledge = PledgeFactory(kind="cases", amount=4, organization__kind="nonprofit")
    affiliate(att_a, pledge.organization)
    match = offer_create(attorney=att_a, coordinator=coord)
    match_attest_no_conflict(match=match, user=att_a.user)
    match_accept(match=match, user=att_a.user)
    return pledge


def _cell(body: str, name: str) -> str:
    return re.search(rf'data-total="{name}">([^<]*)<', body).group(1)


def test_pledged_and_placed_are_labelled_side_by_side(client, placed):
    body = client.get(WALL).content.decode()
    assert '>Pledged</th><th scope="col" class="text-end">Placed</th>' in body
    assert (_cell(body, "cases"), _cell(body, "placed_cases")) == ("4", "1")
    assert _cell(body, "placed_attorneys") == "1"
    assert 'data-label="Cases placed"' in body  # the phone layout's labels


def test_the_table_is_not_a_sideways_scroller(client, placed):
    body = client.get(WALL).content.decode()
    assert "table-responsive" not in body and "stack-table" in body


def test_progress_is_an_svg_drawn_on_the_server(client, placed):
    body = client.get(WALL).content.decode()
    svg = body[body.index("<svg") : body.index("</svg>")]
    assert 'class="wall-chart"' in svg and 'role="img"' in svg
    assert "Cases: 1 accepted of 4 pledged (25%)" in svg
    assert f'data-fill="{round(WIDTH / 4)}"' in svg
    assert "style=" not in svg  # strict CSP: geometry in attributes, colours in site.css


def test_the_chart_caps_at_the_pledge_and_shows_placements_without_one():
    totals = KindTotals("law_firm", "Law firm", pledges=1, hours=10, placed_hours=40,
                        placed_cases=2)  # fmt: skip
    chart = wall_progress_chart([totals])
    assert [(bar.fill, bar.track) for bar in chart.bars] == [(WIDTH, True), (0, False)]
    assert [bar.text for bar in chart.bars] == [
        "Hours: 40 logged of 10 pledged (400%)",
        "Cases: 2 accepted, none pledged",
    ]
    assert wall_progress_chart([]).bars == []
