"""Case priority: documented examples, monotonicity and bounds."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from cases.priority import (
    PRIORITY_WEIGHTS,
    PriorityBreakdown,
    PriorityWeights,
    case_priority,
    weights_table,
)

TODAY = date(2026, 3, 2)


def priority(
    *,
    detained=False,
    hearing_in=None,
    deadline_in=None,
    waited_days=0,
    today=TODAY,
) -> PriorityBreakdown:
    """Build a case relative to TODAY: ``hearing_in=10`` is a hearing ten days from now."""
    return case_priority(
        detained=detained,
        next_hearing_date=None if hearing_in is None else today + timedelta(days=hearing_in),
        filing_deadline=None if deadline_in is None else today + timedelta(days=deadline_in),
        waiting_since=today - timedelta(days=waited_days),
        today=today,
    )


# ---------------------------------------------------------------------------------------------
# Documented examples (default weights)


def test_a_new_case_with_no_dates_has_zero_priority():
    assert priority().total == 0


def test_detained_with_a_hearing_in_ten_days_after_two_weeks_waiting():
    result = priority(detained=True, hearing_in=10, waited_days=14)
    assert result == PriorityBreakdown(detention=300, hearing=300, deadline=0, waiting=6)
    assert result.total == 606


@pytest.mark.parametrize(
    ("hearing_in", "points"),
    [(0, 300), (14, 300), (15, 298), (97, 150), (179, 1), (180, 0), (400, 0)],
)
def test_hearing_points_decay_linearly_between_14_and_180_days(hearing_in, points):
    assert priority(hearing_in=hearing_in).hearing == points


@pytest.mark.parametrize(
    ("deadline_in", "points"),
    [(0, 250), (21, 250), (193, 125), (364, 0), (365, 0)],
)
def test_deadline_points_decay_linearly_between_21_and_365_days(deadline_in, points):
    assert priority(deadline_in=deadline_in).deadline == points


def test_it_treats_a_past_hearing_as_stale_not_imminent():
    assert priority(hearing_in=-1).hearing == 0


def test_it_treats_a_past_deadline_as_stale():
    assert priority(deadline_in=-30).deadline == 0


@pytest.mark.parametrize(
    ("waited_days", "points"), [(0, 0), (6, 0), (7, 3), (70, 30), (350, 150), (3000, 150)]
)
def test_waiting_earns_points_per_full_week_up_to_the_cap(waited_days, points):
    assert priority(waited_days=waited_days).waiting == points


def test_a_waiting_start_in_the_future_counts_as_no_wait():
    assert priority(waited_days=-10).waiting == 0


def test_as_dict_holds_every_part_and_the_total():
    result = priority(detained=True, hearing_in=97, deadline_in=193, waited_days=70)
    assert result.as_dict() == {
        "detention": 300,
        "hearing": 150,
        "deadline": 125,
        "waiting": 30,
        "total": 605,
    }


def test_weights_table_lists_every_weight_with_its_meaning():
    rows = weights_table()
    assert ("detained", 300, "Points when the person is detained") in rows
    assert len(rows) == 9
    assert all(meaning for _, _, meaning in rows)


@pytest.mark.parametrize(
    "bad",
    [
        {"hearing_full_within_days": 180},
        {"deadline_full_within_days": 400},
        {"detained": -1},
    ],
)
def test_it_refuses_inconsistent_weights(bad):
    with pytest.raises(ValueError):
        PriorityWeights(**bad)


# ---------------------------------------------------------------------------------------------
# Properties

_offsets = st.one_of(st.none(), st.integers(min_value=-2000, max_value=2000))
_today = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1))


@given(
    detained=st.booleans(),
    hearing_in=_offsets,
    deadline_in=_offsets,
    waited_days=st.integers(min_value=-500, max_value=20_000),
    today=_today,
)
def test_priority_is_bounded(detained, hearing_in, deadline_in, waited_days, today):
    result = priority(
        detained=detained,
        hearing_in=hearing_in,
        deadline_in=deadline_in,
        waited_days=waited_days,
        today=today,
    )
    assert all(isinstance(part, int) for part in result.as_dict().values())
    assert min(result.detention, result.hearing, result.deadline, result.waiting) >= 0
    assert 0 <= result.total <= PRIORITY_WEIGHTS.max_total <= 1000


@given(
    hearing_dates=st.lists(
        st.dates(min_value=date(2026, 3, 2), max_value=date(2027, 3, 2)), min_size=2, max_size=2
    ),
    detained=st.booleans(),
)
def test_a_closer_hearing_never_lowers_priority(hearing_dates, detained):
    nearer, farther = sorted(hearing_dates)

    def total(hearing):
        return case_priority(
            detained=detained,
            next_hearing_date=hearing,
            filing_deadline=None,
            waiting_since=TODAY,
            today=TODAY,
        ).total

    assert total(nearer) >= total(farther)


@given(st.integers(min_value=0, max_value=500), st.integers(min_value=0, max_value=500))
def test_a_closer_deadline_never_lowers_priority(first, second):
    nearer, farther = sorted((first, second))
    assert priority(deadline_in=nearer).total >= priority(deadline_in=farther).total


@given(hearing_in=_offsets, deadline_in=_offsets, waited_days=st.integers(0, 1000))
def test_detention_always_raises_priority(hearing_in, deadline_in, waited_days):
    free = priority(hearing_in=hearing_in, deadline_in=deadline_in, waited_days=waited_days)
    held = priority(
        detained=True, hearing_in=hearing_in, deadline_in=deadline_in, waited_days=waited_days
    )
    assert held.total > free.total


@given(st.integers(min_value=0, max_value=5000), st.integers(min_value=0, max_value=5000))
def test_waiting_longer_never_lowers_priority(first, second):
    shorter, longer = sorted((first, second))
    assert priority(waited_days=longer).total >= priority(waited_days=shorter).total


def test_waiting_longer_raises_priority_until_the_cap():
    assert priority(waited_days=70).total > priority(waited_days=35).total
    assert priority(waited_days=700).total == priority(waited_days=1400).total
