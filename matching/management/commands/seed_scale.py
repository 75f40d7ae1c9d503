"""A backlog-scale world for benchmarks: `manage.py seed_scale --attorneys N --cases M`.

Distributions follow the demo world (core/demo.py: case languages, case types, court docket
sizes, attorney languages and proficiencies), drawn with numpy from one seed. Rows go in by COPY
on PostgreSQL (psycopg's ``cursor.copy()``) and by ``bulk_create`` elsewhere. Every scale row can
be found again: users have emails @scale.probono.test, case summaries start with "[scale]", and
``--reset`` deletes them (with their matches) before seeding, or alone with ``--attorneys 0
--cases 0``.
"""

import datetime
from collections.abc import Iterable, Sequence
from time import perf_counter

import numpy as np
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.utils import timezone

from cases.models import CaseRequest, ImmigrationCourt
from cases.priority import case_priority
from core.demo import (
    ATTORNEY_LANGUAGES,
    CASE_LANGUAGES,
    CASE_TYPES,
    COURT_WEIGHTS,
    INDIGENOUS_WITH_SPANISH_RELAY,
)
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
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--reset", action="store_true", help="Delete scale rows first.")

    def handle(self, *args, attorneys, cases, seed, reset, **options):
        if attorneys < 0 or cases < 0:
            raise CommandError("--attorneys and --cases must not be negative.")
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
        self.stdout.write(
            f"seeded {attorneys} attorneys and {cases} cases in {perf_counter() - started:.1f} s"
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
    match = "matching_match"
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
