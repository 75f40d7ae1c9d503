"""A run's proposals store their breakdown compactly; readers get the usual dict (issue 15).

A matching run writes ~100,000 proposals at once. Each used to carry ~700 bytes of JSON worked
out in Python (the affinity parts of its attorney and cell, its case's priority parts), which was
most of the write phase. Now a run stores the *inputs* of those parts, and the parts are worked
out by the same functions (matching.scoring.affinity, cases.priority.case_priority) when a row is
read, by :class:`BreakdownField`:

``[2, pair, stored priority, detained, next hearing, filing deadline, created at, today]``

- ``pair``, one per (attorney, cell) and shared by all the cases the attorney takes from the
  cell: ``[cell key, miles, travel radius, remote ok, remote preferred, years of experience,
  cases handled of the cell's case type, prefers the case type, {language: proficiency} for the
  cell's languages, monthly cap]`` (the cap is ``[cap, left, capacity free]`` or null);
- the case's facts as the claim found them (dates in ISO form), and the run's date.

The run fills the case's part in SQL, from the row it claims, so no Python runs per proposal.
Rows stored any other way (dicts: earlier runs, coordinators' swaps, the opportunity board) are
read unchanged. As with the sentences (matching.selectors.match_sentences), the parts are those of
today's scoring code: a change of weights re-words old proposals too.
"""

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Final

from django.db import models
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from cases.priority import case_priority
from matching.scoring import AttorneyFacts, CellFacts, affinity

COMPACT: Final = 2


def pair_facts(
    *,
    cell_key: str,
    miles: float,
    radius: int,
    remote_ok: bool,
    remote_preferred: bool,
    years: int,
    cases_handled: int,
    preferred: bool,
    languages: Mapping[str, int],
    cap: tuple[int, int, int] | None,
) -> list[Any]:
    """The pair's part of a compact breakdown (see the module docstring)."""
    return [
        cell_key, miles, radius, remote_ok, remote_preferred, years, cases_handled, preferred,
        dict(languages), list(cap) if cap else None,
    ]  # fmt: skip


def compact(pair: list[Any], case: tuple, today: date) -> list[Any]:
    """A whole compact breakdown, from the pair's part and the case's facts (stored priority,
    detained, next hearing, filing deadline, created at): what the SQL of a run builds."""
    stored, detained, hearing, deadline, created_at = case
    return [
        COMPACT, pair, stored, detained, _iso(hearing), _iso(deadline), created_at.isoformat(),
        today.isoformat(),
    ]  # fmt: skip


def _iso(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def expand(value: object) -> object:
    """The dict a compact breakdown stands for; anything else unchanged (and a malformed compact
    one as an empty dict, which renders no words)."""
    if not isinstance(value, list) or not value or value[0] != COMPACT:
        return value
    try:
        return _expand(value)
    except (TypeError, ValueError, IndexError, KeyError):
        return {}


def _expand(value: list[Any]) -> dict[str, Any]:
    _, pair, stored, detained, hearing, deadline, created_at, today = value
    key, miles, radius, remote_ok, remote_preferred, years, cases_handled, preferred = pair[:8]
    languages, cap = pair[8], pair[9]
    cell = cell_of_key(key)
    attorney = AttorneyFacts(
        id=0,
        languages=languages,
        practice_areas={cell.case_type: cases_handled},
        years_experience=years,
        latitude=0.0,
        longitude=0.0,
        travel_radius_miles=radius,
        remote_ok=remote_ok,
        verified=True,
        available=True,
        free_capacity=1,
        remote_preferred=remote_preferred,
        preferred_types=frozenset((cell.case_type,) if preferred else ()),
    )
    parts = affinity(attorney, cell, miles=miles)
    # The run's date and the program's time zone (TIME_ZONE), as when the run wrote it.
    waiting_since = datetime.fromisoformat(created_at).astimezone(timezone.get_default_timezone())
    priority = case_priority(
        detained=detained,
        next_hearing_date=_date(hearing),
        filing_deadline=_date(deadline),
        waiting_since=waiting_since.date(),
        today=date.fromisoformat(today),
    )
    expanded: dict[str, Any] = {
        "affinity": parts.as_dict(),
        "cell": key,
        "priority": {
            "stored": max(stored, 0),
            "detention": priority.detention,
            "hearing": priority.hearing,
            "deadline": priority.deadline,
            "waiting": priority.waiting,
            "total": priority.total,
        },
    }
    if cap is not None:
        expanded["monthly_cap"] = dict(zip(("cap", "left", "capacity_free"), cap, strict=True))
    return expanded


def _date(text: str | None) -> date | None:
    return None if text is None else date.fromisoformat(text)


def cell_of_key(key: str) -> CellFacts:
    """The cell a key names (matching.pipeline.load.cell_id), without the court's coordinates:
    the breakdown carries the miles. Case type codes are slugs, language codes letters."""
    prefix, spoken, relay, court, *case_type, flags = key.split(".")
    if prefix != "k" or not case_type or len(flags) != 2:
        raise ValueError("not a cell key")
    language, *others = spoken.split("+")
    return CellFacts(
        language=language,
        other_languages=tuple(others),
        relay_language=relay or None,
        case_type=".".join(case_type),
        court_id=int(court),
        court_latitude=0.0,
        court_longitude=0.0,
        detained=flags[0] == "1",
        remote_ok=flags[1] == "1",
    )


class BreakdownField(models.JSONField):
    """A JSONField whose compact values (see the module docstring) read as the full dict."""

    def from_db_value(self, value, expression, connection):
        value = super().from_db_value(value, expression, connection)
        return value if isinstance(expression, KeyTransform) else expand(value)
