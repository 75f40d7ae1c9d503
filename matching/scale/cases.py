"""Scale cases: open, drawn like the demo world's, inserted in batches."""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from django.utils import timezone

from cases.models import CaseRequest
from cases.priority import case_priority
from core.demo import (
    CASE_LANGUAGES,
    CASE_TYPES,
    COURT_WEIGHTS,
    INDIGENOUS_WITH_SPANISH_RELAY,
    OTHER_CASE_LANGUAGES,
    RELAY_SHARE,
)
from matching.scale.common import BATCH, SCALE_SUMMARY, _pick, copy_rows

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def seed_cases(rng: np.random.Generator, n: int, courts: list[tuple]) -> None:
    offset = CaseRequest.objects.filter(summary__startswith=SCALE_SUMMARY).count()
    for start in range(0, n, BATCH):
        size = min(BATCH, n - start)
        columns, rows, spoken = _case_batch(rng, offset + start, size, courts)
        copy_rows(CaseRequest, columns, rows)
        _copy_other_languages(spoken)


def _copy_other_languages(spoken: list[tuple[str, str]]) -> None:
    """COPY the (case, other language) links of a batch just copied, its ids found by reference
    (COPY returns none): one query, then one COPY into the M2M through table."""
    if not spoken:
        return
    references = {reference for reference, _ in spoken}
    pk = dict(CaseRequest.objects.filter(reference__in=references).values_list("reference", "pk"))
    through = CaseRequest.other_languages.through
    rows = ((pk[reference], code) for reference, code in spoken)
    copy_rows(through, ["caserequest_id", "language_id"], rows)


@dataclass(frozen=True, eq=False, slots=True)
class CaseDraw:
    """n open cases drawn by :func:`draw_cases`, as arrays by case."""

    language: np.ndarray  # codes (objects)
    case_type: np.ndarray  # codes (objects)
    court: np.ndarray  # index into the courts
    detained: np.ndarray
    relay: np.ndarray  # accepts a relay interpreter through Spanish
    remote: np.ndarray
    hearing_days: np.ndarray
    deadline_days: np.ndarray  # -1: no filing deadline
    waiting: np.ndarray  # days since the request came in
    priority: np.ndarray
    others: list[tuple[int, str]]  # (case index, other language spoken), by index


def draw_cases(
    rng: np.random.Generator, n: int, courts: list[tuple], today: datetime.date
) -> CaseDraw:
    """Draw n open cases at the courts (pk, code, zip, latitude, longitude, detained_only) like
    core.demo._case, vectorised and without the database: seed_cases writes these draws,
    bench_solver_scale scores them."""
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
    others = _other_languages(rng, language)
    speaks_spanish = np.zeros(n, dtype=bool)
    speaks_spanish[[i for i, code in others if code == "spa"]] = True
    relay_share = np.where(speaks_spanish, RELAY_SHARE[True], RELAY_SHARE[False])
    relay = np.isin(language, list(INDIGENOUS_WITH_SPANISH_RELAY)) & (rng.random(n) < relay_share)
    remote = np.isin(case_type, ["bia-appeal", "document-assistance"]) | (rng.random(n) < 0.2)
    waiting = rng.integers(0, 241, n)
    priority = _priorities(detained, hearing_days, deadline_days, waiting, today)
    return CaseDraw(
        language, case_type, court_index, detained, relay, remote, hearing_days, deadline_days,
        waiting, priority, others,
    )  # fmt: skip


def _case_batch(rng: np.random.Generator, offset: int, n: int, courts: list[tuple]):
    """Columns and rows for n cases (:func:`draw_cases`), and their other languages."""
    today = timezone.localdate()
    d = draw_cases(rng, n, courts, today)
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
            _reference(offset + i), "open", d.language[i], bool(d.relay[i]),
            "spa" if d.relay[i] else None, court_pk[d.court[i]], d.case_type[i],
            bool(d.detained[i]), bool(d.remote[i]), today + int(d.hearing_days[i]) * day,
            today + int(d.deadline_days[i]) * day if d.deadline_days[i] >= 0 else None,
            f"{SCALE_SUMMARY} {d.case_type[i].replace('-', ' ')}", "import", int(d.priority[i]),
            now - int(d.waiting[i]) * day, now,
        )
        for i in range(n)
    )  # fmt: skip
    return columns, rows, [(_reference(offset + i), code) for i, code in d.others]


def _other_languages(rng: np.random.Generator, language: np.ndarray) -> list[tuple[int, str]]:
    """(case index, other language) pairs drawn by OTHER_CASE_LANGUAGES' shares, one vectorised
    draw per (language, other language) entry."""
    # Languages are disjoint sets of cases, so each k-th entry of every language can share one
    # array of draws; the k-th and (k+1)-th of one language stay independent.
    width = max(len(spoken) for spoken in OTHER_CASE_LANGUAGES.values())
    draws = rng.random((width, len(language)))
    pairs: list[tuple[int, str]] = []
    for code, spoken in OTHER_CASE_LANGUAGES.items():
        for k, (other, share) in enumerate(spoken):
            chosen = np.flatnonzero((language == code) & (draws[k] < share))
            pairs.extend((int(i), other) for i in chosen.tolist())
    return sorted(pairs)


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
