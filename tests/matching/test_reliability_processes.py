"""REL-3 and REL-5 with real processes: Celery workers killed with SIGKILL, a real Redis broker,
and a PostgreSQL server stopped with ``pg_ctl stop -m immediate`` in the middle of a run.

Nothing here touches the shared services: the module starts its own PostgreSQL cluster and its
own redis-server on free ports (tests/processes.py). One seeded world is copied (CREATE DATABASE
... TEMPLATE) for an uninterrupted baseline run and for each test, so every run starts from the
same rows with the same primary keys and the outcomes compare with the baseline's.

The world: seed_scale's attorneys and cases with remote work switched off, so it splits into
about fifteen regional components; the worker writes one component per transaction
(tests/process_settings.py), so a kill or a crash can land between two committed batches, which
is the case worth testing. (With remote work on, hubs join every cell into one component and a
run writes a single batch.)

Module runtime: about a minute (10-25 s of it seeding the world), with 2 busy cores.
"""

import os
import random
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg
import pytest
from celery import Celery
from celery.backends.redis import RedisBackend
from django.conf import settings
from django.db import connection

from cases.models import CaseRequest
from matching.models import Match, MatchingRun
from tests.processes import ROOT, PrivatePostgres, PrivateRedis, Worker, postgres_bindir, wait_for
from volunteers.models import AttorneyProfile

BINDIR = postgres_bindir()

pytestmark = [
    pytest.mark.worker,
    pytest.mark.timeout(240),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="REL-3/REL-5 need PostgreSQL (advisory locks, a server to crash); SQLite here",
    ),
    pytest.mark.skipif(
        not settings.CELERY_BROKER_URL.startswith("redis"),
        reason="REL-3/REL-5 need the Redis broker (visibility timeout); filesystem broker here",
    ),
    pytest.mark.skipif(
        BINDIR is None or not shutil.which("redis-server"),
        reason="needs PostgreSQL's server binaries (initdb, pg_ctl) and redis-server",
    ),
]

ATTORNEYS, CASES, SEED = 3000, 40_000, 11
TEMPLATE = "seeded"
# Seconds before Redis redelivers the message of a killed worker (CELERY_VISIBILITY_TIMEOUT).
KILL_VISIBILITY_TIMEOUT = 3
# Long enough that no message is redelivered while the worker itself retries (REL-5).
RESTART_VISIBILITY_TIMEOUT = 120

MATCH = Match._meta.db_table
RUN = MatchingRun._meta.db_table
PROFILE = AttorneyProfile._meta.db_table
CASE = CaseRequest._meta.db_table
ACTIVE = [str(status) for status in Match.ACTIVE_STATUSES]
RUNNING, FINISHED, FAILED = (
    str(MatchingRun.Status.RUNNING),
    str(MatchingRun.Status.FINISHED),
    str(MatchingRun.Status.FAILED),
)

Proposals = dict[tuple[int, int], int]  # active (case, attorney) -> score


@dataclass
class World:
    pg: PrivatePostgres
    redis: PrivateRedis
    baseline: Proposals  # after one uninterrupted run
    run_seconds: float  # how long that run took, to place kills inside a run

    def env(self, database: str, *, visibility_timeout: int) -> dict[str, str]:
        return {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.process_settings",
            "DATABASE_URL": self.pg.url(database),
            "CELERY_BROKER_URL": self.redis.url(0),
            "CELERY_RESULT_BACKEND": self.redis.url(1),
            "CACHE_URL": self.redis.url(2),
            "CELERY_VISIBILITY_TIMEOUT": str(visibility_timeout),
        }

    def copy(self, name: str) -> str:
        self.pg.create_database(name, template=TEMPLATE)
        return name

    def enqueue_run(self) -> str:
        """Publish one matching run to the private broker, as the beat would; its task id."""
        # Explicit connections: Celery prefers CELERY_BROKER_URL / CELERY_RESULT_BACKEND from
        # the environment (the shared Redis of the test session) over its configuration.
        with _client() as client, client.connection_for_write(self.redis.url(0)) as broker:
            return client.send_task(
                "matching.run_matching", kwargs={"trigger": "test"}, connection=broker
            ).id

    def result(self, task_id: str, *, timeout: float) -> dict:
        """The task's return value once it succeeded (raises if it failed for good)."""
        with _client() as client:
            backend = RedisBackend(app=client, url=self.redis.url(1))
            return client.AsyncResult(task_id, backend=backend).get(timeout=timeout)


@contextmanager
def _client() -> Iterator[Celery]:
    client = Celery("reliability-client", set_as_current=False)
    try:
        yield client
    finally:
        client.close()


def _manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True,
                   capture_output=True)  # fmt: skip


def _python(env: dict[str, str], code: str) -> None:
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True,
                   capture_output=True)  # fmt: skip


RUN_ONCE = (
    "import django; django.setup(); from matching.pipeline.run import matching_run; matching_run()"
)


@pytest.fixture(scope="module")
def world():
    pg, redis = PrivatePostgres(BINDIR), PrivateRedis()
    try:
        pg.create()
        redis.start()
        pg.create_database(TEMPLATE)
        probe = World(pg, redis, {}, 0.0)
        env = probe.env(TEMPLATE, visibility_timeout=RESTART_VISIBILITY_TIMEOUT)
        _manage(env, "migrate", "--noinput")
        _manage(env, "seed_scale", f"--attorneys={ATTORNEYS}", f"--cases={CASES}", f"--seed={SEED}")
        with pg.connect(TEMPLATE) as conn:
            conn.execute(f"UPDATE {PROFILE} SET remote_ok = false, remote_preferred = false")  # noqa: S608
            conn.execute(f"UPDATE {CASE} SET remote_ok = false")  # noqa: S608
        _python(probe.env(probe.copy("baseline"), visibility_timeout=1), RUN_ONCE)
        with pg.connect("baseline") as conn:
            baseline = _active(conn)
            [(stats,)] = conn.execute(f"SELECT stats FROM {RUN}").fetchall()  # noqa: S608
        assert stats["write_batches"] >= 5, "the world must split into several write batches"
        assert len(baseline) > 1000
        yield World(pg, redis, baseline, stats["seconds"]["total"])
    finally:
        redis.stop()
        pg.destroy()


# ---------------------------------------------------------------------------------------------
# Reading the outcome


def _active(conn: psycopg.Connection, *, run: int | None = None) -> Proposals:
    sql = f"SELECT case_id, attorney_id, score FROM {MATCH} WHERE status = ANY(%s)"  # noqa: S608
    rows = (
        conn.execute(sql, [ACTIVE])
        if run is None
        else conn.execute(f"{sql} AND run_id = %s", [ACTIVE, run])
    )
    return {(case, attorney): score for case, attorney, score in rows.fetchall()}


def _runs(conn: psycopg.Connection) -> dict[int, str]:
    return dict(conn.execute(f"SELECT id, status FROM {RUN}").fetchall())  # noqa: S608


def _proposals_by_run(conn: psycopg.Connection) -> dict[int, int]:
    sql = f"SELECT run_id, count(*) FROM {MATCH} GROUP BY run_id"  # noqa: S608
    return dict(conn.execute(sql).fetchall())


def _running_run(conn: psycopg.Connection, *, after: int) -> int | None:
    sql = f"SELECT max(id) FROM {RUN} WHERE status = %s AND id > %s"  # noqa: S608
    return conn.execute(sql, [RUNNING, after]).fetchone()[0]


def _finished(conn: psycopg.Connection) -> bool:
    sql = f"SELECT exists(SELECT 1 FROM {RUN} WHERE status = %s)"  # noqa: S608
    return conn.execute(sql, [FINISHED]).fetchone()[0]


def _wait_for_a_batch(conn: psycopg.Connection, run: int) -> None:
    """Until the run has committed a batch, or ended (a resumed run may have nothing to write)."""
    sql = (
        f"SELECT exists(SELECT 1 FROM {MATCH} WHERE run_id = %(run)s) "  # noqa: S608
        f"OR NOT exists(SELECT 1 FROM {RUN} WHERE id = %(run)s AND status = %(running)s)"
    )
    params = {"run": run, "running": RUNNING}
    wait_for(
        lambda: conn.execute(sql, params).fetchone()[0], timeout=60, interval=0.02, what="a batch"
    )


def _assert_consistent(conn: psycopg.Connection) -> None:
    """What every committed state must satisfy, whatever was interrupted: one active match per
    case, counters equal to active matches and within capacity, and a case is claimed (matched)
    exactly when it has an active match (a half-written batch breaks one of these)."""
    doubles = conn.execute(
        f"SELECT case_id FROM {MATCH} WHERE status = ANY(%s) "  # noqa: S608
        "GROUP BY case_id HAVING count(*) > 1",
        [ACTIVE],
    ).fetchall()
    assert doubles == []
    counters = conn.execute(
        f"SELECT p.id FROM {PROFILE} p LEFT JOIN {MATCH} m "  # noqa: S608
        "ON m.attorney_id = p.id AND m.status = ANY(%s) GROUP BY p.id "
        "HAVING p.active_cases <> count(m.id) OR p.active_cases > p.capacity",
        [ACTIVE],
    ).fetchall()
    assert counters == []
    claims = conn.execute(
        f"SELECT count(*) FROM {CASE} c WHERE (c.status = %s) <> EXISTS("  # noqa: S608
        f"SELECT 1 FROM {MATCH} m WHERE m.case_id = c.id AND m.status = ANY(%s))",
        [str(CaseRequest.Status.MATCHED), ACTIVE],
    ).fetchone()[0]
    assert claims == 0


# ---------------------------------------------------------------------------------------------
# REL-3

# Each kill: what is killed, and when. "pool": only the pool process running the task (the main
# process rejects the message back to the queue: task_reject_on_worker_lost). "worker": the whole
# worker, main process too (nobody is left to reject; Redis redelivers the unacknowledged message
# after the visibility timeout, to a fresh worker: acks_late). "writing": just after the run's
# first batch commits; "anytime": a random moment of the run, which may come after its end.
KILLS = [("pool", "writing"), ("worker", "writing"), ("pool", "anytime"), ("worker", "anytime")]


def _wait_past_visibility_timeout(redis: PrivateRedis) -> None:
    """Until the killed worker's unacknowledged message is older than the visibility timeout,
    so that the next worker restores it as it starts."""
    scores = redis.cli("zrange", "unacked_index", "0", "-1", "withscores").split()[1::2]
    if scores:
        delivered = max(float(score) for score in scores)
        time.sleep(max(0.0, delivered + KILL_VISIBILITY_TIMEOUT + 0.5 - time.time()))


def test_a_worker_killed_at_random_points_loses_nothing(world, tmp_path):  # REL-3
    database = world.copy("killed")
    env = world.env(database, visibility_timeout=KILL_VISIBILITY_TIMEOUT)
    rng = random.Random(3)
    workers = [Worker(env, tmp_path / "worker.log")]
    killed: dict[int, str] = {}  # run -> what was killed while it ran
    try:
        with world.pg.connect(database) as conn:
            task_id = world.enqueue_run()
            after = 0
            for target, moment in KILLS:
                run = wait_for(
                    lambda after=after: _running_run(conn, after=after) or _finished(conn),
                    timeout=30,  # a worker starts within seconds; a lost message never runs
                    what="the (redelivered) run to start",
                )
                if run is True:
                    break  # the last run ended before this kill: nothing left to interrupt
                if moment == "writing":
                    _wait_for_a_batch(conn, run)
                    time.sleep(rng.uniform(0, 0.1))  # the rest of the batches take ~0.8 s
                else:
                    time.sleep(rng.uniform(0, world.run_seconds))
                running = _runs(conn)[run] == RUNNING
                if target == "pool":
                    workers[-1].kill_pool_process()
                else:
                    workers[-1].kill_all()
                time.sleep(0.2)
                # Interrupted: running just before the kill, and it never finished (still
                # RUNNING, or already marked FAILED by the redelivered run that took over).
                if running and _runs(conn)[run] != FINISHED:
                    killed[run] = target
                if target == "worker":
                    _wait_past_visibility_timeout(world.redis)
                    workers.append(Worker(env, tmp_path / "worker.log"))
                after = run

            outcome = world.result(task_id, timeout=120)

            final = _active(conn)
            first = _active(conn, run=min(_runs(conn)))
            _assert_consistent(conn)
            runs, proposals = _runs(conn), _proposals_by_run(conn)
    finally:
        for worker in workers:
            worker.stop()
    assert set(killed.values()) == {"pool", "worker"}  # both ways of dying happened mid-run
    assert outcome["status"] == FINISHED
    assert final == world.baseline  # the very pairs (and scores) of the uninterrupted run
    assert 0 < len(first) < len(world.baseline)  # the first kill came between two batches
    assert RUNNING not in runs.values()
    assert {runs[run] for run in killed} == {FAILED}  # marked by the run that came next
    assert runs[outcome["run"]] == FINISHED
    assert sum(proposals.values()) == len(world.baseline)  # nothing written twice
    assert "@scale.probono.test" not in (tmp_path / "worker.log").read_text()  # no personal data


# ---------------------------------------------------------------------------------------------
# REL-5


def test_a_database_crash_mid_run_is_retried_to_the_same_result(world, tmp_path):  # REL-5
    database = world.copy("restarted")
    env = world.env(database, visibility_timeout=RESTART_VISIBILITY_TIMEOUT)
    worker = Worker(env, tmp_path / "worker.log")
    try:
        with world.pg.connect(database) as conn:
            task_id = world.enqueue_run()
            crashed = wait_for(
                lambda: _running_run(conn, after=0), timeout=60, what="the run to start"
            )
            _wait_for_a_batch(conn, crashed)
        world.pg.stop_immediately()  # in the middle of the write phase
        world.pg.start()
        with world.pg.connect(database) as conn:
            _assert_consistent(conn)  # right after recovery: whole batches only
            outcome = world.result(task_id, timeout=120)
            final, before_crash = _active(conn), _active(conn, run=crashed)
            _assert_consistent(conn)
            runs, proposals = _runs(conn), _proposals_by_run(conn)
    finally:
        worker.stop()
    log = (tmp_path / "worker.log").read_text()
    assert "Retry in" in log  # the worker retried the task itself, long before any redelivery
    assert outcome["status"] == FINISHED
    assert final == world.baseline  # the very pairs (and scores) of the uninterrupted run
    assert 0 < len(before_crash) < len(world.baseline)  # the crash came between batches
    assert RUNNING not in runs.values()
    assert (runs[crashed], runs[outcome["run"]]) == (FAILED, FINISHED)
    assert sum(proposals.values()) == len(world.baseline)
    assert "@scale.probono.test" not in log
