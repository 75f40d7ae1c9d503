"""Small runs (matching/pipeline/load/small.py): exactly the full run's optimum, from the cases
within the free attorneys' reach only, on random small worlds (PostgreSQL here; `make smoke`
runs the ones marked smoke on SQLite)."""

import dataclasses
from collections import Counter
from datetime import timedelta
from unittest import mock

import numpy as np
import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from cases.models import CaseRequest, CaseType, ImmigrationCourt
from cases.other_language_cells import case_other_language_cells_prune
from matching.models import Match, MatchingRun
from matching.pipeline import load as load_module
from matching.pipeline.load import attorneys as attorneys_module
from matching.pipeline.load import load_problem, read_snapshot, scored, snapshot
from matching.pipeline.load import small as small_module
from matching.pipeline.load.small import load_small_problem
from matching.pipeline.run import matching_run, solve_problem
from matching.scoring import eligibility, other_languages_key
from matching.solver import materialise
from matching.tasks import runs as tasks
from tests.factories import AttorneyFactory, CaseRequestFactory
from volunteers.models import AttorneyLanguage, AttorneyProfile, PracticeArea

pytestmark = pytest.mark.django_db

EVERYTHING = 10**6  # cases: never send the loader to the full path


def _world(seed: int, *, other_languages: bool, settings) -> np.random.Generator:
    """A seed_scale world after one full run (most capacity used, the rest out of reach), then
    what happens between runs: new and raised attorneys, declined pairs (exclusions), new
    cases in old and new cells, priority ties, other languages and relays."""
    settings.MATCHING_OTHER_LANGUAGES = other_languages
    settings.MATCHING_SMALL_RUN_MAX_CASES = 0
    call_command("seed_scale", attorneys=30, cases=300, seed=seed)
    rng = np.random.default_rng(seed)
    _add_other_languages(rng)
    matching_run(trigger="test")
    _decline_some(rng)
    _new_attorneys(rng)
    AttorneyProfile.objects.filter(
        pk__in=rng.choice(_pks(AttorneyProfile), size=3, replace=False).tolist()
    ).update(capacity=F("capacity") + 1)
    _new_cases(rng)
    return rng


def _pks(model) -> list[int]:
    return list(model.objects.order_by("pk").values_list("pk", flat=True))


def _add_other_languages(rng: np.random.Generator) -> None:
    choices = ["spa", "fra", "hat", "mam", "quc", "pan", "eng"]
    links = {
        (pk, str(code))
        for pk in rng.choice(_pks(CaseRequest), size=60, replace=False).tolist()
        for code in rng.choice(choices, size=int(rng.integers(1, 3)), replace=False)
    }
    CaseRequest.other_languages.through.objects.bulk_create(
        [
            CaseRequest.other_languages.through(caserequest_id=pk, language_id=code)
            for pk, code in sorted(links)
        ],
        ignore_conflicts=True,
    )


def _decline_some(rng: np.random.Generator) -> None:
    """Some proposals declined: the case is open again, the pair excluded for good."""
    proposed = _pks(Match)
    for pk in rng.choice(proposed, size=min(6, len(proposed)), replace=False).tolist():
        match = Match.objects.get(pk=pk)
        Match.objects.filter(pk=pk).update(status=Match.Status.DECLINED, decline_reason="other")
        CaseRequest.objects.filter(pk=match.case_id).update(status=CaseRequest.Status.OPEN)
        AttorneyProfile.objects.filter(pk=match.attorney_id).update(
            active_cases=F("active_cases") - 1
        )


def _new_attorneys(rng: np.random.Generator) -> None:
    """Newly verified attorneys with the skills of random existing ones, at random courts."""
    courts = list(ImmigrationCourt.objects.values_list("latitude", "longitude"))
    for source in rng.choice(_pks(AttorneyProfile), size=4, replace=False).tolist():
        lat, lon = courts[int(rng.integers(len(courts)))]
        AttorneyFactory(
            capacity=int(rng.integers(1, 5)),
            latitude=lat,
            longitude=lon,
            remote_ok=bool(rng.integers(2)),
            travel_radius_miles=int(rng.choice([10, 50, 300])),
            languages=dict(
                AttorneyLanguage.objects.filter(attorney_id=source).values_list(
                    "language_id", "proficiency"
                )
            ),
            practice_areas=list(
                PracticeArea.objects.filter(attorney_id=source).values_list(
                    "case_type_id", flat=True
                )
            ),
        )


def _new_cases(rng: np.random.Generator) -> None:
    """Cases like existing ones (same cells) and new mixes, with tied and zero priorities."""
    languages = sorted(set(CaseRequest.objects.values_list("language_id", flat=True)))
    courts = list(ImmigrationCourt.objects.all())
    types = sorted(CaseType.objects.values_list("code", flat=True))
    for _ in range(25):
        relay = bool(rng.integers(4) == 0)
        CaseRequestFactory(
            language_id=str(rng.choice(languages)),
            court=courts[int(rng.integers(len(courts)))],
            case_type_id=str(rng.choice(types)),
            detained=bool(rng.integers(3) == 0),
            remote_ok=bool(rng.integers(2)),
            relay_interpreter_ok=relay,
            relay_language_id="spa" if relay else None,
            priority=int(rng.choice([0, 0, 100, 100, 400, 700])),
            next_hearing_date=timezone.localdate() + timedelta(days=int(rng.integers(5, 200))),
        )


def _assert_optimal_in(full, solution) -> None:
    """Every pair of ``solution`` is allowed in the full problem at the score it claims, no
    attorney above capacity, no case twice."""
    instance = materialise(full.instance, full.hubs)
    cell_of = dict(zip(instance.case_ids, instance.case_cell(), strict=True))
    priority = dict(zip(instance.case_ids, instance.priority.tolist(), strict=True))
    arcs = {
        (instance.attorney_ids[a], int(c)): int(v)
        for a, c, v in zip(instance.arc_attorney, instance.arc_cell, instance.affinity, strict=True)
    }
    capacity = dict(zip(instance.attorney_ids, instance.capacity.tolist(), strict=True))
    for pair in solution.assignments:
        affinity = arcs[pair.attorney, int(cell_of[pair.case])]
        assert pair.score == affinity + priority[pair.case]
    taken = Counter(pair.attorney for pair in solution.assignments)
    assert all(taken[a] <= capacity[a] for a in taken)
    assert len({pair.case for pair in solution.assignments}) == len(solution.assignments)


@pytest.mark.smoke
@pytest.mark.parametrize("other_languages", [False, True])
@pytest.mark.parametrize("seed", [21, 22, 23, 24])
def test_a_small_run_finds_the_full_runs_optimum_on_random_worlds(seed, other_languages, settings):
    _world(seed, other_languages=other_languages, settings=settings)
    full = load_problem()
    small = load_small_problem(today=timezone.localdate(), max_cases=EVERYTHING)

    assert small is not None and small.instance.n_cases < full.instance.n_cases
    expected, found = solve_problem(full), solve_problem(small)
    assert found.objective == expected.objective and found.assigned > 0
    _assert_optimal_in(full, found)


@pytest.mark.smoke
@pytest.mark.parametrize("seed", [21, 22, 23, 24, 25, 26, 27, 28])
def test_parts_read_shallow_first_are_read_deeper_until_the_optimum_leaves_one_free(
    seed, settings, monkeypatch
):
    """One case per part at first: a part the optimum uses up is read deeper (step 3)."""
    monkeypatch.setattr(small_module, "FIRST_DEPTH", 1)
    monkeypatch.setattr(small_module, "DEEPER", 2)
    monkeypatch.setattr(small_module, "ROUNDS", 20)
    _world(seed, other_languages=bool(seed % 2), settings=settings)
    full = load_problem()
    small = load_small_problem(today=timezone.localdate(), max_cases=EVERYTHING)

    figures = small.stats["small_run"]
    assert figures["rounds"] > 1
    # a round reads again only the parts the last one used up
    assert 0 < figures["probes_read_again"] < (figures["rounds"] - 1) * figures["probes"]
    expected, found = solve_problem(full), solve_problem(small)
    assert found.objective == expected.objective
    _assert_optimal_in(full, found)


def test_a_round_reuses_the_scored_arcs_while_the_split_cells_stay_the_same(settings, monkeypatch):
    """The small run's rounds read more cases of the same cells: the arcs and hubs are scored
    again only when the split cells or the excluded pairs change."""
    _world(21, other_languages=True, settings=settings)
    rows = read_snapshot(timezone.localdate(), fast=connection.vendor == "postgresql")
    scorings = []
    real = load_module.Scoring
    monkeypatch.setattr(load_module, "Scoring", lambda *a: scorings.append(1) or real(*a))
    reuse: dict = {}
    first = scored(rows, reuse=reuse)
    again = scored(rows, reuse=reuse)  # the same cells: not scored again
    assert len(scorings) == 1 and again[3] is first[3] and again[4] is first[4]

    # a new exclusion gives its case a cell of its own: scored again, as without reuse
    excluded_cases = {case for _, case in rows.excluded}
    case = next(int(c) for c in rows.case_pk if int(c) not in excluded_cases)
    pair = (int(rows.attorneys.pk[0]), case)
    more = dataclasses.replace(rows, excluded=[*rows.excluded, pair])
    changed, fresh = scored(more, reuse=reuse), scored(more)
    assert len(scorings) == 3
    for name in ("attorney", "cell", "affinity"):
        assert np.array_equal(getattr(changed[3], name), getattr(fresh[3], name))
    assert np.array_equal(changed[4].arc_attorney, fresh[4].arc_attorney)
    assert changed[2].cell_ids == fresh[2].cell_ids != first[2].cell_ids


@pytest.mark.parametrize("seed", [31, 32])
def test_the_free_attorneys_reach_covers_every_eligible_pair(seed, settings, monkeypatch):
    """What the loader reads covers every cell with an eligible free attorney: each such cell
    of the full problem has at least min(size, capacity in reach) of its best cases loaded."""
    monkeypatch.setattr(small_module, "FIRST_DEPTH", EVERYTHING)  # depth: capacity in reach
    _world(seed, other_languages=True, settings=settings)
    full = load_problem()
    small = load_small_problem(today=timezone.localdate(), max_cases=EVERYTHING)
    loaded = set(small.case_pk.tolist())
    for k, cell in enumerate(full.cells):
        cases = full.case_pk[full.case_cell == k]
        eligible = [
            i
            for i in range(len(full.attorneys))
            if eligibility(full.attorney_facts(i), cell, miles=full.pair_miles(i, cell)).ok
        ]
        reach = int(full.attorneys.free[eligible].sum())
        best = _best(full, cases)[: min(len(cases), reach)]
        assert set(best) <= loaded


def _best(problem, cases) -> list[int]:
    """The cases in the solver's order: priority clipped at 0, highest first, then pk."""
    rows = CaseRequest.objects.filter(pk__in=cases.tolist()).values_list("pk", "priority")
    return [pk for pk, _ in sorted(rows, key=lambda row: (-max(row[1], 0), row[0]))]


def test_more_cases_to_read_than_the_setting_takes_the_full_load(settings):
    _world(25, other_languages=False, settings=settings)
    today = timezone.localdate()
    read = load_small_problem(today=today, max_cases=EVERYTHING).instance.n_cases

    assert load_small_problem(today=today, max_cases=read) is not None
    assert load_small_problem(today=today, max_cases=read - 1) is None


def test_a_small_run_writes_its_last_rounds_optimum_without_solving_again(settings, monkeypatch):
    """The rounds solve with the run's solver, and the run writes the last round's optimum:
    one solve per round, none after."""
    monkeypatch.setattr(small_module, "FIRST_DEPTH", 1)
    monkeypatch.setattr(small_module, "DEEPER", 2)
    monkeypatch.setattr(small_module, "ROUNDS", 20)
    _world(22, other_languages=False, settings=settings)
    expected = solve_problem(load_problem())
    settings.MATCHING_SMALL_RUN_MAX_CASES = 100_000
    solved = []

    def solver(problem):
        solved.append(problem.instance.n_cases)
        return solve_problem(problem)

    run = matching_run(trigger="attorney", small=True, solver=solver)

    assert run.stats["small_run"]["rounds"] == len(solved) > 1
    assert run.objective == expected.objective and run.proposals == expected.assigned


@pytest.mark.smoke
def test_a_debounced_run_takes_the_small_path_and_writes_the_optimum(
    settings,
):
    _world(26, other_languages=True, settings=settings)
    expected = solve_problem(load_problem())
    settings.MATCHING_SMALL_RUN_MAX_CASES = 100_000

    run = matching_run(trigger="attorney", small=True)

    assert run.status == MatchingRun.Status.FINISHED
    assert "small_run" in run.stats and "unreachable_cases" not in run.stats
    assert run.objective == expected.objective and run.proposals == expected.assigned
    written = set(Match.objects.filter(run=run).values_list("attorney_id", "case_id"))
    assert len(written) == expected.assigned
    again = matching_run(trigger="attorney", small=True)
    assert again.proposals == 0 and "small_run" in again.stats


def test_the_debounced_task_may_take_the_small_path_and_the_schedule_loads_everything(settings):
    _world(28, other_languages=False, settings=settings)
    settings.MATCHING_SMALL_RUN_MAX_CASES = 100_000

    scheduled = tasks.run_matching.apply(kwargs={"trigger": "schedule"}).get()
    debounced = tasks.run_matching.apply(kwargs={"trigger": "attorney", "small": True}).get()

    runs = MatchingRun.objects.in_bulk([scheduled["run"], debounced["run"]])
    assert "unreachable_cases" in runs[scheduled["run"]].stats
    assert "small_run" in runs[debounced["run"]].stats


def test_a_debounced_run_that_finds_another_running_tries_again(settings):
    """The running one may have loaded before the change that asked for this run."""
    skipped = MatchingRun.objects.create(status=MatchingRun.Status.SKIPPED, trigger="attorney")
    finished = MatchingRun.objects.create(status=MatchingRun.Status.FINISHED, trigger="attorney")
    with mock.patch.object(tasks, "matching_run", side_effect=[skipped, finished]) as run:
        result = tasks.run_matching.apply(kwargs={"trigger": "attorney", "small": True}).get()

    assert run.call_count == 2 and result["run"] == finished.pk


@pytest.mark.parametrize("other_languages", [False, True])
def test_postgresql_reads_each_probe_as_the_orm_path_does(other_languages, settings):
    """The probes go to PostgreSQL as numbers and one list of their strings (other languages'
    keys hold commas, relays are blank for none): each reads the cases the ORM path reads."""
    if connection.vendor != "postgresql":
        pytest.skip("the ORM path is the reference")
    _world(26, other_languages=other_languages, settings=settings)
    with snapshot():
        base, probes, _ = small_module._read_base(timezone.localdate())
        every = list(range(len(probes)))
        read = small_module._read_probes(probes, others=base.others, limit=EVERYTHING)
        expected = small_module._read_probes_orm(probes, every, base.others, EVERYTHING)

    assert sorted(read) == sorted(expected) and len(read) > 0
    assert any(relay for relay in probes.relay)
    assert not other_languages or any("," in key for key in probes.others)


def test_the_database_refuses_an_open_case_that_was_closed():
    """The small run finds open cases through an index that leaves closed ones out."""
    case = CaseRequestFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        CaseRequest.objects.filter(pk=case.pk).update(closed_at=timezone.now())
    CaseRequest.objects.filter(pk=case.pk).update(
        status=CaseRequest.Status.CLOSED, closed_at=timezone.now()
    )


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL column")
def test_the_other_languages_key_has_no_default_so_older_rows_stay_heap_only_on_claim():
    """Migration cases/0014 on a table that already holds cases: with NOT NULL DEFAULT '', every
    later claim of an older row compared the stored default with the new tuple's '' byte for
    byte, found the indexed key changed and rewrote every index (at 1M cases: 91k claims in
    8.1 s, 4% heap-only; 0.8 s without). Nullable with no default, older rows read NULL."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.attnotnull, a.atthasdef FROM pg_attribute a "
            "WHERE a.attrelid = 'cases_caserequest'::regclass "
            "AND a.attname = 'other_languages_key' AND NOT a.attisdropped"
        )
        assert cursor.fetchone() == (False, False)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL trigger")
def test_the_other_languages_key_follows_the_links_and_the_main_language():
    """Migration cases/0014 keeps other_languages_key equal to the loaders' cell key."""
    case = CaseRequestFactory(language_id="spa")
    through = CaseRequest.other_languages.through

    def key() -> str:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT COALESCE(other_languages_key, '') FROM cases_caserequest WHERE id = %s",
                [case.pk],
            )
            return cursor.fetchone()[0]

    def listed() -> bool:
        """Whether cases_other_language_cell lists the case's cell (when it has a key)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXISTS (SELECT 1 FROM cases_other_language_cell o JOIN cases_caserequest "
                "c ON (o.other_languages_key, o.language_id, o.case_type_id, o.detained, "
                "o.court_id, o.remote_ok, o.relay) = (c.other_languages_key, c.language_id, "
                "c.case_type_id, c.detained, c.court_id, c.remote_ok, COALESCE(CASE WHEN "
                "c.relay_interpreter_ok THEN c.relay_language_id END, '')) WHERE c.id = %s)",
                [case.pk],
            )
            return cursor.fetchone()[0]

    def expected() -> str:
        codes = through.objects.filter(caserequest_id=case.pk).values_list("language_id", flat=True)
        language = CaseRequest.objects.get(pk=case.pk).language_id
        return ",".join(other_languages_key(language, codes))

    assert key() == ""
    through.objects.bulk_create(
        [through(caserequest_id=case.pk, language_id=code) for code in ("hat", "fra", "spa")]
    )
    assert key() == expected() == "fra,hat" and listed()
    CaseRequest.objects.filter(pk=case.pk).update(language_id="fra")
    assert key() == expected() == "hat,spa" and listed()
    CaseRequest.objects.filter(pk=case.pk).update(
        court=ImmigrationCourt.objects.exclude(pk=case.court_id).first(),
        relay_interpreter_ok=True,
        relay_language_id="mam",
    )
    assert listed()
    case.refresh_from_db()
    case.priority += 1
    case.save()  # every column written again, the language unchanged
    assert key() == expected() == "hat,spa"
    through.objects.filter(caserequest_id=case.pk, language_id="hat").delete()
    assert key() == expected() == "spa" and listed()
    through.objects.filter(caserequest_id=case.pk, language_id="fra").delete()
    through.objects.filter(caserequest_id=case.pk).update(language_id="fra")
    assert key() == expected() == ""


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL table")
def test_pruning_the_other_language_cells_leaves_the_small_runs_result_unchanged(settings):
    """Cells whose cases all closed leave the list the small run reads
    (cases/other_language_cells.py): it reads the same cases and finds the same optimum."""
    _world(23, other_languages=True, settings=settings)
    with_others = CaseRequest.objects.filter(
        status=CaseRequest.Status.OPEN, other_languages__isnull=False
    ).distinct()
    closing = list(with_others.order_by("pk").values_list("pk", flat=True))[::2]
    CaseRequest.objects.filter(pk__in=closing).update(
        status=CaseRequest.Status.CLOSED, closed_at=timezone.now()
    )
    today = timezone.localdate()
    before = load_small_problem(today=today, max_cases=EVERYTHING)
    listed = len(small_module._other_cells())

    pruned = case_other_language_cells_prune()

    after = load_small_problem(today=today, max_cases=EVERYTHING)
    assert pruned and len(small_module._other_cells()) == listed - pruned
    assert sorted(after.case_pk.tolist()) == sorted(before.case_pk.tolist())
    expected, found = solve_problem(before), solve_problem(after)
    assert found.objective == expected.objective == solve_problem(load_problem()).objective
    assert found.assigned == expected.assigned > 0


def test_load_attorneys_reads_the_same_skills_by_key_list_array_or_subquery(settings, monkeypatch):
    """A small run asks for few attorneys' skills by primary keys (a list, or on PostgreSQL
    one array of them), a full run by a subquery."""
    _world(29, other_languages=True, settings=settings)
    today = timezone.localdate()
    loads = {}
    for way, few, many in (("list", 10**6, 0), ("array", 0, 10**6), ("subquery", 0, 0)):
        monkeypatch.setattr(attorneys_module, "FEW", few)
        monkeypatch.setattr(attorneys_module, "MANY", many)
        loads[way] = attorneys_module.load_attorneys(today)

    by_keys = loads["list"]
    assert len(by_keys) > 0
    for other in (loads["array"], loads["subquery"]):
        assert by_keys.pk.tolist() == other.pk.tolist()
        for name in ("languages", "practice_areas", "preferred_types", "excluded_types"):
            assert sorted(getattr(by_keys, name)) == sorted(getattr(other, name))
