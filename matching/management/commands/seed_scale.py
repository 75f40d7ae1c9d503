"""A backlog-scale world for benchmarks: `manage.py seed_scale --attorneys N --cases M`.

Distributions follow the demo world (core/demo.py: case languages, case types, court docket
sizes, attorney languages and proficiencies), drawn with numpy from one seed. Rows go in by COPY
on PostgreSQL (psycopg's ``cursor.copy()``) and by ``bulk_create`` elsewhere. Every scale row can
be found again: users have emails @scale.probono.test, case summaries start with "[scale]", and
``--reset`` deletes them (with their matches and the runs ``--matches`` made) before seeding, or
alone with ``--attorneys 0 --cases 0``.

``--matches N`` adds a match history over the scale cases and attorneys that are still free, as
if runs had proposed them daily for months and coordinators and attorneys had worked on them
(see seed_matches).
"""

import datetime
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from time import perf_counter

import numpy as np
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone

from cases.models import CaseRequest, CaseType, ImmigrationCourt, Language
from cases.priority import case_priority
from core.demo import (
    ATTORNEY_LANGUAGES,
    CASE_LANGUAGES,
    CASE_TYPES,
    COURT_WEIGHTS,
    INDIGENOUS_WITH_SPANISH_RELAY,
)
from matching.models import Match, MatchingRun
from matching.scoring import AttorneyFacts, CellFacts, affinity, explain
from volunteers.models import AttorneyLanguage, AttorneyProfile, PracticeArea

SCALE_DOMAIN = "scale.probono.test"
SCALE_SUMMARY = "[scale]"
BATCH = 50_000
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class Command(BaseCommand):
    help = "Seed N verified attorneys and M open cases with realistic distributions (benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--attorneys", type=int, default=0)
        parser.add_argument("--cases", type=int, default=0)
        parser.add_argument(
            "--matches", type=int, default=0, help="Match history over the scale rows."
        )
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--reset", action="store_true", help="Delete scale rows first.")

    def handle(self, *args, attorneys, cases, seed, reset, matches=0, **options):
        if attorneys < 0 or cases < 0 or matches < 0:
            raise CommandError("--attorneys, --cases and --matches must not be negative.")
        courts = list(
            ImmigrationCourt.objects.filter(active=True).values_list(
                "pk", "code", "zip_code", "latitude", "longitude", "detained_only"
            )
        )
        if not courts:
            raise CommandError("No immigration courts: run migrate (or load_reference_data).")
        rng = np.random.default_rng(seed)
        started = perf_counter()
        if reset:
            self.stdout.write(f"reset: {scale_reset()} scale rows deleted")
        if attorneys:
            seed_attorneys(rng, attorneys, courts)
        if cases:
            seed_cases(rng, cases, courts)
        if matches:
            seed_matches(rng, matches)
        self.stdout.write(
            f"seeded {attorneys} attorneys, {cases} cases and {matches} matches "
            f"in {perf_counter() - started:.1f} s"
        )


# ---------------------------------------------------------------------------------------------
# Reset


def scale_reset() -> int:
    """Delete scale rows with plain SQL: Django's delete() would collect millions of objects."""
    user = get_user_model()._meta.db_table
    profile, case = AttorneyProfile._meta.db_table, CaseRequest._meta.db_table
    scale_users = f"SELECT id FROM {user} WHERE email LIKE %s"  # noqa: S608 (constants only)
    scale_attorneys = f"SELECT id FROM {profile} WHERE user_id IN ({scale_users})"  # noqa: S608
    scale_cases = f"SELECT id FROM {case} WHERE summary LIKE %s"  # noqa: S608
    email, summary = f"%@{SCALE_DOMAIN}", f"{SCALE_SUMMARY}%"
    # Table names come from model metadata, values are parameters.
    match = Match._meta.db_table
    statements = [
        (f"DELETE FROM {match} WHERE case_id IN ({scale_cases})", [summary]),  # noqa: S608
        (f"DELETE FROM {match} WHERE attorney_id IN ({scale_attorneys})", [email]),  # noqa: S608
        (f"DELETE FROM {case} WHERE summary LIKE %s", [summary]),  # noqa: S608
    ]
    for model in _attorney_children():
        table = model._meta.db_table
        sql = f"DELETE FROM {table} WHERE attorney_id IN ({scale_attorneys})"  # noqa: S608
        statements.append((sql, [email]))
    statements += [
        (f"DELETE FROM {profile} WHERE user_id IN ({scale_users})", [email]),  # noqa: S608
        (f"DELETE FROM {user} WHERE email LIKE %s", [email]),  # noqa: S608
        (f"DELETE FROM {MatchingRun._meta.db_table} WHERE trigger = %s", [RUN_TRIGGER]),  # noqa: S608
    ]
    deleted = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)
            deleted += max(cursor.rowcount, 0)
    return deleted


def _attorney_children() -> list[type[models.Model]]:
    """Every model with a foreign key to AttorneyProfile except matches (deleted first)."""
    return [
        rel.related_model
        for rel in AttorneyProfile._meta.related_objects
        if rel.one_to_many and rel.related_model._meta.label != "matching.Match"
    ]


# ---------------------------------------------------------------------------------------------
# Attorneys


def seed_attorneys(rng: np.random.Generator, n: int, courts: list[tuple]) -> None:
    offset = get_user_model().objects.filter(email__endswith=f"@{SCALE_DOMAIN}").count()
    home = [c for c in courts if not c[5]]
    weights = np.array([COURT_WEIGHTS.get(c[1], 10) for c in home], dtype=float)
    court = rng.choice(len(home), size=n, p=weights / weights.sum())
    # Within ~30 miles of the court's city: 0.43 degrees of latitude is about 30 miles.
    lat = np.array([float(home[c][3]) for c in court]) + rng.uniform(-0.3, 0.3, n)
    lon = np.array([float(home[c][4]) for c in court]) + rng.uniform(-0.3, 0.3, n)
    now = timezone.now()
    emails = [f"attorney{offset + i:07d}@{SCALE_DOMAIN}" for i in range(n)]
    copy_rows(
        get_user_model(),
        ["username", "email", "password", "first_name", "last_name", "is_active", "date_joined"],
        ((e, e, "!", "Scale", f"Attorney {e[8:15]}", True, now) for e in emails),
    )
    user_ids = dict(
        get_user_model()
        .objects.filter(email__endswith=f"@{SCALE_DOMAIN}")
        .values_list("email", "pk")
    )
    radius = rng.choice([25, 50, 50, 100, 250], size=n)
    remote = rng.random(n) < 0.5
    years = rng.choice([1, 2, 3, 5, 8, 12, 20, 30], size=n)
    capacity = rng.choice([1, 2, 3, 5], size=n, p=[0.45, 0.30, 0.15, 0.10])
    copy_rows(
        AttorneyProfile,
        ["user_id", "verification", "verified_at", "home_zip", "latitude", "longitude",
         "travel_radius_miles", "remote_ok", "years_experience", "capacity", "active_cases"],
        (
            (user_ids[emails[i]], "verified", now, home[court[i]][2], round(float(lat[i]), 5),
             round(float(lon[i]), 5), int(radius[i]), bool(remote[i]), int(years[i]),
             int(capacity[i]), 0)
            for i in range(n)
        ),
    )  # fmt: skip
    profiles = dict(
        AttorneyProfile.objects.filter(user__email__endswith=f"@{SCALE_DOMAIN}").values_list(
            "user_id", "pk"
        )
    )
    attorney = [profiles[user_ids[e]] for e in emails]
    copy_rows(
        AttorneyLanguage, ["attorney_id", "language_id", "proficiency"], _languages(rng, attorney)
    )
    copy_rows(PracticeArea, ["attorney_id", "case_type_id", "cases_handled"], _areas(rng, attorney))


def _languages(rng: np.random.Generator, attorneys: list[int]) -> Iterable[tuple]:
    for pk in attorneys:
        yield pk, "eng", 4
        for code, share, proficiency_weights in ATTORNEY_LANGUAGES:
            if rng.random() < share:
                p = np.array(proficiency_weights, dtype=float)
                yield pk, code, int(rng.choice([4, 3, 2, 1], p=p / p.sum()))


def _areas(rng: np.random.Generator, attorneys: list[int]) -> Iterable[tuple]:
    types = list(CASE_TYPES)
    for pk in attorneys:
        chosen = {"asylum"} if rng.random() < 0.8 else set()
        chosen |= {types[i] for i in rng.choice(len(types), rng.integers(1, 5), replace=False)}
        for code in sorted(chosen):
            yield pk, code, int(rng.choice([0, 1, 3, 8, 25]))


# ---------------------------------------------------------------------------------------------
# Cases


def seed_cases(rng: np.random.Generator, n: int, courts: list[tuple]) -> None:
    offset = CaseRequest.objects.filter(summary__startswith=SCALE_SUMMARY).count()
    for start in range(0, n, BATCH):
        size = min(BATCH, n - start)
        copy_rows(CaseRequest, *_case_batch(rng, offset + start, size, courts))


def _pick(rng: np.random.Generator, weights: dict[str, int], size: int) -> np.ndarray:
    keys = list(weights)
    p = np.array(list(weights.values()), dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=p / p.sum())]


def _case_batch(rng: np.random.Generator, offset: int, n: int, courts: list[tuple]):
    """Columns and rows for n cases, drawn like core.demo._case, vectorised."""
    today = timezone.localdate()
    language = _pick(rng, CASE_LANGUAGES, n)
    case_type = _pick(rng, CASE_TYPES, n)
    court_index = rng.choice(
        len(courts), size=n, p=_normalised([COURT_WEIGHTS.get(c[1], 10) for c in courts])
    )
    detained_courts = np.flatnonzero([c[5] for c in courts])
    bond_elsewhere = (case_type == "bond") & ~np.array([c[5] for c in courts])[court_index]
    court_index[bond_elsewhere] = rng.choice(detained_courts, size=int(bond_elsewhere.sum()))
    detained_court = np.array([c[5] for c in courts])[court_index]
    detained = detained_court | (case_type == "bond") | (rng.random(n) < 0.08)
    hearing_days = np.where(detained, rng.integers(5, 61, n), rng.integers(14, 721, n))
    deadline_days = np.where(
        (case_type == "asylum") & (rng.random(n) < 0.3),
        rng.integers(20, 366, n),
        np.where(case_type == "bia-appeal", rng.integers(5, 22, n), -1),
    )
    relay = np.isin(language, list(INDIGENOUS_WITH_SPANISH_RELAY)) & (rng.random(n) < 0.7)
    remote = np.isin(case_type, ["bia-appeal", "document-assistance"]) | (rng.random(n) < 0.2)
    waiting = rng.integers(0, 241, n)
    priority = _priorities(detained, hearing_days, deadline_days, waiting, today)
    now = timezone.now()
    columns = [
        "reference", "status", "language_id", "relay_interpreter_ok", "relay_language_id",
        "court_id", "case_type_id", "detained", "remote_ok", "next_hearing_date",
        "filing_deadline", "summary", "source", "priority", "created_at", "updated_at",
    ]  # fmt: skip
    day = datetime.timedelta(days=1)
    court_pk = [c[0] for c in courts]
    rows = (
        (
            _reference(offset + i), "open", language[i], bool(relay[i]),
            "spa" if relay[i] else None, court_pk[court_index[i]], case_type[i],
            bool(detained[i]), bool(remote[i]), today + int(hearing_days[i]) * day,
            today + int(deadline_days[i]) * day if deadline_days[i] >= 0 else None,
            f"{SCALE_SUMMARY} {case_type[i].replace('-', ' ')}", "import", int(priority[i]),
            now - int(waiting[i]) * day, now,
        )
        for i in range(n)
    )  # fmt: skip
    return columns, rows


def _normalised(weights: Sequence[float]) -> np.ndarray:
    p = np.array(weights, dtype=float)
    return p / p.sum()


def _priorities(detained, hearing_days, deadline_days, waiting, today) -> np.ndarray:
    """case_priority, by lookup tables: its parts depend on one variable each."""

    def part(name: str, days: int, **dates) -> int:
        return getattr(
            case_priority(
                detained=False,
                next_hearing_date=dates.get("hearing"),
                filing_deadline=dates.get("deadline"),
                waiting_since=today - datetime.timedelta(days=days if name == "waiting" else 0),
                today=today,
            ),
            name,
        )

    day = datetime.timedelta(days=1)
    hearing = np.array([part("hearing", 0, hearing=today + d * day) for d in range(722)])
    deadline = np.array([part("deadline", 0, deadline=today + d * day) for d in range(367)])
    waited = np.array([part("waiting", d) for d in range(242)])
    detention = case_priority(
        detained=True, next_hearing_date=None, filing_deadline=None, waiting_since=today,
        today=today,
    ).detention  # fmt: skip
    return (
        np.where(detained, detention, 0)
        + hearing[hearing_days]
        + np.where(deadline_days >= 0, deadline[np.maximum(deadline_days, 0)], 0)
        + waited[waiting]
    )


def _reference(index: int) -> str:
    """Unique "PBS-" references (S for scale), base32 like real ones."""
    digits = []
    for _ in range(10):
        index, digit = divmod(index, 32)
        digits.append(_ALPHABET[digit])
    return "PBS-" + "".join(reversed(digits))


# ---------------------------------------------------------------------------------------------
# Matches

RUN_TRIGGER = "seed_scale"  # marks the runs --matches invents, so --reset can find them
# Share of the matches still active (proposed … accepted), capped by the attorneys' free places.
ACTIVE_SHARE, CAPACITY_USE = 0.55, 0.9
ACTIVE_MIX = {"proposed": 30, "approved": 10, "offered": 15, "accepted": 45}
ENDED_MIX = {"declined": 40, "expired": 20, "rejected": 25, "withdrawn": 15}
# Share of the ended (not withdrawn) matches that precede a case's current active match; the rest
# leave their case open again.
EARLIER_SHARE = 0.4
DECLINE_MIX = {
    "no_capacity": 35, "distance": 15, "language": 10, "conflict": 15, "case_type": 10, "other": 15,
}  # fmt: skip
REJECT_REASONS = ["Attorney on leave", "Better fit by hand", "Conflict known to us", "swapped"]
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
       move the cases (matched, represented, withdrawn) and the attorneys' counters to agree.
    """
    world = _World.load()
    free_total = int(world.free.sum())
    active_n = min(round(n * ACTIVE_SHARE), int(free_total * CAPACITY_USE))
    planner = _Planner(rng, world)
    # Languages with few speakers fill up first: what cannot be placed becomes ended history.
    placed = planner.place_active(list(_pick(rng, ACTIVE_MIX, active_n)))
    ended = list(_pick(rng, ENDED_MIX, n - placed))
    withdrawn = [s for s in ended if s == "withdrawn"]
    history = [s for s in ended if s != "withdrawn"]
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


class _World:
    """Scale attorneys (facts, free places, speakers per language) and free scale cases."""

    @classmethod
    def load(cls) -> "_World":
        world = cls()
        attorneys = AttorneyProfile.objects.filter(
            user__email__endswith=f"@{SCALE_DOMAIN}", verification="verified"
        ).order_by("pk")
        rows = list(
            attorneys.values_list(
                "pk", "capacity", "active_cases", "years_experience", "latitude", "longitude",
                "travel_radius_miles", "remote_ok",
            )
        )  # fmt: skip
        if not rows:
            raise CommandError("--matches needs scale attorneys: seed them first.")
        world.attorney_pk = [row[0] for row in rows]
        world.free = np.array([row[1] - row[2] for row in rows], dtype=np.int64)
        index = {row[0]: i for i, row in enumerate(rows)}
        languages: list[dict[str, int]] = [{} for _ in rows]
        areas: list[dict[str, int]] = [{} for _ in rows]
        world.speakers: dict[str, list[int]] = {}
        skills = AttorneyLanguage.objects.filter(attorney__in=attorneys)
        for pk, code, level in skills.values_list("attorney_id", "language_id", "proficiency"):
            languages[index[pk]][code] = level
            world.speakers.setdefault(code, []).append(index[pk])
        practice = PracticeArea.objects.filter(attorney__in=attorneys)
        for pk, code, handled in practice.values_list(
            "attorney_id", "case_type_id", "cases_handled"
        ):
            areas[index[pk]][code] = handled
        world.facts = [
            AttorneyFacts(
                id=pk, languages=languages[i], practice_areas=areas[i], years_experience=years,
                latitude=float(lat), longitude=float(lon), travel_radius_miles=radius,
                remote_ok=remote, verified=True, available=True, free_capacity=0,
            )
            for i, (pk, _, _, years, lat, lon, radius, remote) in enumerate(rows)
        ]  # fmt: skip
        world.cases = np.array(
            CaseRequest.objects.filter(summary__startswith=SCALE_SUMMARY, status="open")
            .exclude(pk__in=Match.objects.values("case_id"))
            .order_by("pk")
            .values_list("pk", flat=True),
            dtype=np.int64,
        )
        world.now = timezone.now().timestamp()
        return world


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
                routes = (case[1], case[2])
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
        self.buffer = [(*row[:-1], row[-1].timestamp()) for row in rows]

    def _attorney(self, case: tuple, *, needs_place: bool) -> int | None:
        routes = [case[1]] + ([case[2]] if case[2] else [])
        for _ in range(30):
            code = routes[0] if len(routes) == 1 or self.rng.random() < 0.7 else routes[1]
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
            dates["changed"] = dates["offered"] = created + rng.random() * (hi - created)
            dates["expires"] = dates["offered"] + ttl
        elif status in ("accepted", "declined", "expired"):
            offered = created + min(rng.uniform(2 * HOUR, 2 * DAY), 0.3 * (hi - created))
            dates["offered"], dates["expires"] = offered, offered + ttl
            if status == "expired":
                dates["changed"] = offered + ttl + rng.random() * HOUR
            else:
                # Answers take hours to days: log-normal around a day, within the offer's life.
                wait = min(rng.lognormal(np.log(26 * HOUR), 0.9), ttl - 60)
                dates["changed"] = dates["responded"] = offered + min(wait, 0.9 * (hi - offered))
        elif status in ("rejected", "withdrawn"):
            longest = 3 * DAY if status == "rejected" else 20 * DAY
            dates["changed"] = created + min(rng.random() * longest, hi - created)
        return dates


def _runs(rows: list[dict]) -> list[tuple[float, int]]:
    """One finished run a day at 02:00, from the day before the first match to today: each
    match names the last run before it, as if that run had proposed it."""
    zone = timezone.get_current_timezone()
    day = datetime.datetime.fromtimestamp(min(r["created"] for r in rows), zone).date()
    days = (timezone.localdate() - day).days + 2
    starts = [
        datetime.datetime.combine(day + datetime.timedelta(days=i - 1), datetime.time(2), zone)
        for i in range(days)
    ]
    runs = MatchingRun.objects.bulk_create(
        MatchingRun(status="finished", trigger=RUN_TRIGGER) for _ in starts
    )
    for run, start in zip(runs, starts, strict=True):
        # started_at is auto_now_add: set it afterwards.
        run.started_at, run.finished_at = start, start + datetime.timedelta(seconds=45)
    MatchingRun.objects.bulk_update(runs, ["started_at", "finished_at"])
    return [(start.timestamp(), run.pk) for start, run in zip(starts, runs, strict=True)]


_MATCH_COLUMNS = [
    "case_id", "attorney_id", "run_id", "status", "score", "breakdown", "decline_reason",
    "reject_reason", "conflict_attested_at", "created_at", "status_changed_at", "offered_at",
    "expires_at", "responded_at",
]  # fmt: skip


def _match_rows(
    world: _World, rows: list[dict], runs: list[tuple[float, int]], explainer: "_Breakdowns"
) -> Iterable[tuple]:
    """Rows for copy_rows, each with a breakdown shaped like the pipeline's (pipeline/write.py)."""
    starts = np.array([start for start, _ in runs])
    run_of = np.searchsorted(starts, [row["created"] for row in rows], side="right") - 1
    zone = datetime.UTC
    for row, run in zip(rows, run_of.tolist(), strict=True):
        score, breakdown = explainer(world.facts[row["attorney"]], row["case"])
        when = {
            key: None if row[key] is None else datetime.datetime.fromtimestamp(row[key], zone)
            for key in ("created", "changed", "offered", "expires", "responded")
        }
        attested = when["responded"] if row["status"] == "accepted" else None
        yield (
            row["case"][0], world.attorney_pk[row["attorney"]], runs[max(run, 0)][1],
            row["status"], score,
            json.dumps(breakdown) if connection.vendor == "postgresql" else breakdown,
            row.get("decline_reason", ""), row.get("reject_reason", ""), attested,
            when["created"], when["changed"], when["offered"], when["expires"], when["responded"],
        )  # fmt: skip


class _Breakdowns:
    """Score and explanation of a pair with matching.scoring, memoised per (attorney, cell)."""

    def __init__(self) -> None:
        self.courts = {
            pk: (float(lat), float(lon))
            for pk, lat, lon in ImmigrationCourt.objects.values_list("pk", "latitude", "longitude")
        }
        self.languages = dict(Language.objects.values_list("code", "name"))
        self.case_types = dict(CaseType.objects.values_list("code", "name"))
        self.today = timezone.localdate()
        self.pairs: dict[tuple, tuple[dict, list[str]]] = {}

    def __call__(self, attorney: AttorneyFacts, case: tuple) -> tuple[int, dict]:
        _, language, relay, court, case_type, detained, remote, stored, hearing, deadline, at = case
        lat, lon = self.courts[court]
        cell = CellFacts(
            language=language, relay_language=relay, case_type=case_type, court_id=court,
            court_latitude=lat, court_longitude=lon, detained=detained, remote_ok=remote,
        )  # fmt: skip
        key = (attorney.id, cell)
        if key not in self.pairs:
            parts = affinity(attorney, cell)
            words = explain(
                parts,
                language_name=lambda c: self.languages.get(c, c),
                case_type_name=lambda c: self.case_types.get(c, c),
            )
            self.pairs[key] = ({**parts.as_dict()}, words)
        parts, words = self.pairs[key]
        waiting_since = datetime.datetime.fromtimestamp(at, datetime.UTC).date()
        priority = case_priority(
            detained=detained, next_hearing_date=hearing, filing_deadline=deadline,
            waiting_since=waiting_since, today=self.today,
        )  # fmt: skip
        priority_parts = {
            "stored": max(stored, 0), "detention": priority.detention, "hearing": priority.hearing,
            "deadline": priority.deadline, "waiting": priority.waiting, "total": priority.total,
        }  # fmt: skip
        breakdown = {
            "affinity": parts, "priority": priority_parts, "cell": _cell_id(cell),
            "explanation": words,
        }  # fmt: skip
        return parts["total"] + max(stored, 0), breakdown


def _cell_id(cell: CellFacts) -> str:
    """As matching.pipeline.load.cell_id (not imported: the pipeline pulls in the solver)."""
    flags = f"{int(cell.detained)}{int(cell.remote_ok)}"
    return f"k.{cell.language}.{cell.relay_language or ''}.{cell.court_id}.{cell.case_type}.{flags}"


CASE_AFTER = {
    "proposed": "matched", "approved": "matched", "offered": "matched", "accepted": "represented",
    "withdrawn": "withdrawn",
}  # fmt: skip


def _move_cases(rows: list[dict]) -> None:
    """Each case as its match left it; a case with only ended history stays open."""
    by_status: dict[str, list[int]] = {}
    for row in rows:
        if row["status"] in CASE_AFTER:
            by_status.setdefault(CASE_AFTER[row["status"]], []).append(row["case"][0])
    for status, pks in by_status.items():
        for start in range(0, len(pks), BATCH):
            CaseRequest.objects.filter(pk__in=pks[start : start + BATCH]).update(status=status)


def _raise_counters(world: _World, rows: list[dict]) -> None:
    """active_cases += the attorney's new active matches: one UPDATE per distinct count."""
    added = Counter(row["attorney"] for row in rows if row["status"] in Match.ACTIVE_STATUSES)
    by_count: dict[int, list[int]] = {}
    for attorney, count in added.items():
        by_count.setdefault(count, []).append(world.attorney_pk[attorney])
    for count, pks in sorted(by_count.items()):
        for start in range(0, len(pks), BATCH):
            AttorneyProfile.objects.filter(pk__in=pks[start : start + BATCH]).update(
                active_cases=F("active_cases") + count
            )


# ---------------------------------------------------------------------------------------------
# Inserting


def copy_rows(model: type[models.Model], columns: list[str], rows: Iterable[tuple]) -> None:
    """Insert rows, filling every other column with its model default.

    PostgreSQL: one COPY per call. Elsewhere: bulk_create in batches.
    """
    extra_fields, extra_values = _defaults(model, columns)
    if connection.vendor != "postgresql":
        names = columns + extra_fields
        batch = []
        for row in rows:
            batch.append(model(**dict(zip(names, (*row, *extra_values), strict=True))))
            if len(batch) >= 2000:
                model.objects.bulk_create(batch)
                batch = []
        model.objects.bulk_create(batch)
        return
    db_columns = [model._meta.get_field(_field_name(model, c)).column for c in columns]
    db_columns += [model._meta.get_field(f).column for f in extra_fields]
    # Defaults in their database form (an encrypted field encrypts its empty default).
    extra_db = tuple(
        model._meta.get_field(f).get_db_prep_save(v, connection)
        for f, v in zip(extra_fields, extra_values, strict=True)
    )
    query = f"COPY {model._meta.db_table} ({', '.join(db_columns)}) FROM STDIN"
    with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(query) as copy:
        for row in rows:
            copy.write_row((*row, *extra_db))


def _field_name(model: type[models.Model], column: str) -> str:
    for f in model._meta.concrete_fields:
        if column in (f.name, f.attname):
            return f.name
    raise CommandError(f"{model.__name__} has no field {column!r}")


def _defaults(model: type[models.Model], columns: list[str]) -> tuple[list[str], list]:
    now = timezone.now()
    given = {_field_name(model, c) for c in columns}
    names, values = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.name in given:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = now
        elif f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        else:
            value = f.get_default()  # "" for text fields
        names.append(f.attname)
        values.append(value)
    return names, values
