"""A match history over the scale cases and attorneys: which pairs, which statuses, when."""

import numpy as np
from django.conf import settings
from django.core.management.base import CommandError
from django.db import transaction

from cases.models import CaseRequest
from matching.models import Match
from matching.scale.common import _pick, copy_rows
from matching.scale.match_rows import (
    _MATCH_COLUMNS,
    _Breakdowns,
    _match_rows,
    _move_cases,
    _raise_counters,
    _runs,
)
from matching.scale.world import _World
from matching.scoring import other_languages_key

# Share of the matches still active (proposed … accepted), capped by the attorneys' free places.
ACTIVE_SHARE, CAPACITY_USE = 0.55, 0.9
ACTIVE_MIX = {"proposed": 30, "approved": 10, "offered": 15, "accepted": 45}
ENDED_MIX = {
    "declined": 40, "expired": 15, "rejected": 25, "withdrawn": 15, "returned": 5, "completed": 8,
}  # fmt: skip
# Share of the ended (not withdrawn) matches that precede a case's current active match; the rest
# leave their case open again.
EARLIER_SHARE = 0.4
DECLINE_MIX = {
    "no_capacity": 35, "distance": 15, "language": 10, "conflict": 15, "case_type": 10, "other": 15,
}  # fmt: skip
REJECT_REASONS = ["Attorney on leave", "Better fit by hand", "Conflict known to us", "swapped"]
PUT_BACK_REASONS = ["Trial schedule changed", "Conflict found after the intake", "Leaving the firm"]
HOUR, DAY = 3600.0, 86400.0
MAX_MISSES = 5000  # cases in a row without a free speaker: every language is full


def seed_matches(rng: np.random.Generator, n: int) -> None:
    """A match history of n rows over the scale cases without matches and the scale attorneys.

    1. Split n into active matches (at most CAPACITY_USE of the attorneys' free places) and ended
       ones, and draw each one's status from ACTIVE_MIX / ENDED_MIX.
    2. Pair each case with a random attorney who speaks its language (or its relay language) and,
       for an active match, has a free place; never the same pair twice.
    3. Date each match inside its case's life: ended history before the current match, offers
       answered in hours to days, pending offers not yet expired.
    4. Score and explain each pair with matching.scoring, as a run would, and COPY them in; then
       move the cases (matched, represented, withdrawn, closed with an outcome) and the
       attorneys' counters to agree.
    """
    world = _World.load()
    free_total = int(world.free.sum())
    active_n = min(round(n * ACTIVE_SHARE), int(free_total * CAPACITY_USE))
    planner = _Planner(rng, world)
    # Languages with few speakers fill up first: what cannot be placed becomes ended history.
    placed = planner.place_active(list(_pick(rng, ACTIVE_MIX, active_n)))
    ended = list(_pick(rng, ENDED_MIX, n - placed))
    # A withdrawn case or a closed one (completed) ends with its match: nothing comes after.
    withdrawn = [s for s in ended if s in ("withdrawn", "completed")]
    history = [s for s in ended if s not in ("withdrawn", "completed")]
    earlier_n = round(len(history) * EARLIER_SHARE)
    planner.place_alone(withdrawn, old_enough=True)
    left = planner.place_earlier(history[:earlier_n])
    planner.place_alone(left + history[earlier_n:], old_enough=True)
    with transaction.atomic():
        runs = _runs(planner.rows)
        # Read what the breakdowns need first: no query may run while the COPY streams.
        explainer = _Breakdowns()
        copy_rows(Match, _MATCH_COLUMNS, _match_rows(world, planner.rows, runs, explainer))
        _move_cases(planner.rows)
        _raise_counters(world, planner.rows)


class _Planner:
    """Chooses cases, attorneys and dates; `rows` collects one dict per match."""

    FACTS = (
        "pk", "language_id", "relay_language_id", "court_id", "case_type_id", "detained",
        "remote_ok", "priority", "next_hearing_date", "filing_deadline", "created_at",
    )  # fmt: skip

    def __init__(self, rng: np.random.Generator, world: _World) -> None:
        self.rng, self.world = rng, world
        self.order = iter(rng.permutation(world.cases).tolist())
        self.pairs: set[tuple[int, int]] = set()
        self.rows: list[dict] = []
        self.active_rows: list[dict] = []
        self.buffer: list[tuple] = []
        self.spare: list[tuple] = []
        self.unread = len(world.cases)

    def place_active(self, statuses: list[str]) -> int:
        """Place as many as the free places allow; return how many were placed."""
        full: set[tuple] = set()  # language routes whose speakers seem to have no place left
        misses = 0
        for status in statuses:
            while misses < MAX_MISSES and (self.buffer or self.unread):
                case = self._next_case(old_enough=False)
                routes = (case[1], case[2], case[3])
                attorney = None if routes in full else self._attorney(case, needs_place=True)
                if attorney is not None:
                    break
                full.add(routes)
                self.spare.append(case)  # still good for ended history, which needs no place
                misses += 1
            else:
                return len(self.active_rows)
            misses = 0
            self.world.free[attorney] -= 1
            self.active_rows.append(self._add(case, attorney, status, case[-1], self.world.now))
        return len(self.active_rows)

    def place_alone(self, statuses: list[str], *, old_enough: bool) -> None:
        for status in statuses:
            while True:
                case = self._next_case(old_enough=old_enough)
                attorney = self._attorney(case, needs_place=False)
                if attorney is not None:
                    break
            self._add(case, attorney, status, case[-1], self.world.now)

    def place_earlier(self, statuses: list[str]) -> list[str]:
        """Ended matches before an active one: the case went back to open, then was re-matched.

        Returns the statuses it found no place for (too few old cases or speakers)."""
        old = [row for row in self.active_rows if row["case"][-1] < self.world.now - 45 * DAY]
        chosen = self.rng.permutation(len(old)).tolist()
        left = statuses[len(chosen) :]
        for status, i in zip(statuses, chosen, strict=False):
            current = old[i]
            attorney = self._attorney(current["case"], needs_place=False)
            if attorney is None:
                left.append(status)
                continue
            lo, hi = current["case"][-1], current["case"][-1] + 30 * DAY
            earlier = self._add(current["case"], attorney, status, lo, hi)
            # The current match follows once the earlier one ended.
            current.update(
                self._dates(current["status"], earlier["changed"] + HOUR, self.world.now)
            )
        return left

    def _next_case(self, *, old_enough: bool) -> tuple:
        while True:
            if self.spare and old_enough:
                case = self.spare.pop()
            else:
                if not self.buffer:
                    self._refill()
                case = self.buffer.pop()
            if not old_enough or case[-1] < self.world.now - 30 * DAY:
                return case

    def _refill(self) -> None:
        chunk = [pk for _, pk in zip(range(5000), self.order, strict=False)]
        self.unread -= len(chunk)
        if not chunk:
            raise CommandError("Not enough open scale cases without matches for --matches.")
        rows = CaseRequest.objects.filter(pk__in=chunk).order_by("-pk").values_list(*self.FACTS)
        spoken: dict[int, list[str]] = {}
        links = CaseRequest.other_languages.through.objects.filter(caserequest_id__in=chunk)
        for pk, code in links.values_list("caserequest_id", "language_id"):
            spoken.setdefault(pk, []).append(code)
        # (pk, language, relay, other languages, court, ..., created_at as a timestamp)
        self.buffer = [
            (*row[:3], other_languages_key(row[1], spoken.get(row[0], ())), *row[3:-1],
             row[-1].timestamp())
            for row in rows
        ]  # fmt: skip

    def _attorney(self, case: tuple, *, needs_place: bool) -> int | None:
        # The main language most often, else any other route (other languages, relay).
        routes = [case[1], *case[3]] + ([case[2]] if case[2] else [])
        for _ in range(30):
            if len(routes) == 1 or self.rng.random() < 0.7:
                code = routes[0]
            else:
                code = routes[1 + int(self.rng.integers(len(routes) - 1))]
            pool = self.world.speakers.get(code)
            if not pool:
                continue
            attorney = pool[int(self.rng.integers(len(pool)))]
            if needs_place and self.world.free[attorney] <= 0:
                continue
            if (case[0], attorney) not in self.pairs:
                self.pairs.add((case[0], attorney))
                return attorney
        return None

    def _add(self, case: tuple, attorney: int, status: str, lo: float, hi: float) -> dict:
        row = {"case": case, "attorney": attorney, "status": status, **self._dates(status, lo, hi)}
        if status == "declined":
            row["decline_reason"] = str(_pick(self.rng, DECLINE_MIX, 1)[0])
        if status == "returned":
            row["put_back_reason"] = PUT_BACK_REASONS[int(self.rng.integers(len(PUT_BACK_REASONS)))]
        if status == "rejected":
            row["reject_reason"] = REJECT_REASONS[int(self.rng.integers(len(REJECT_REASONS)))]
        self.rows.append(row)
        return row

    def _dates(self, status: str, lo: float, hi: float) -> dict:
        """Epoch seconds of each step, in order, between lo and hi (hi is now for live ones)."""
        rng, ttl = self.rng, settings.MATCH_OFFER_TTL_HOURS * HOUR
        recent = {"proposed": 14 * DAY, "approved": 21 * DAY, "offered": ttl - HOUR}
        if status in recent:
            lo = max(lo, hi - recent[status])
        if status == "expired":  # leave room for the offer to run out before hi
            hi = max(lo, hi - ttl - 2 * DAY - HOUR)
        created = lo + rng.random() * max(hi - lo, 0.0)
        dates = {"created": created, "changed": created, "offered": None, "expires": None}
        dates["responded"] = None
        if status == "approved":
            dates["changed"] = created + rng.random() * (hi - created) / 2
        elif status == "offered":
            offered = created + rng.random() * (hi - created)
            dates["changed"] = dates["offered"] = offered
            dates["expires"] = offered + ttl
        elif status in ("accepted", "declined", "expired", "returned", "completed"):
            offered = created + min(rng.uniform(2 * HOUR, 2 * DAY), 0.3 * (hi - created))
            dates["offered"], dates["expires"] = offered, offered + ttl
            if status == "expired":
                dates["changed"] = offered + ttl + rng.random() * HOUR
            else:
                # Answers take hours to days: log-normal around a day, within the offer's life.
                wait = min(rng.lognormal(np.log(26 * HOUR), 0.9), ttl - 60)
                answered = offered + min(wait, 0.9 * (hi - offered))
                dates["changed"] = dates["responded"] = answered
                if status in ("returned", "completed"):  # put back or closed days later
                    dates["changed"] = answered + rng.random() * (hi - answered) / 2
        elif status in ("rejected", "withdrawn"):
            longest = 3 * DAY if status == "rejected" else 20 * DAY
            dates["changed"] = created + min(rng.random() * longest, hi - created)
        return dates
