"""A run's solved plan, kept while it is written, so a run that dies can be finished as solved.

Why not just solve again? The optimum is rarely unique at backlog scale (many attorneys score
the same for the same cell), and after some batches are committed the remaining problem is a
different graph: an exact solver may pick a different optimum among the ties. Finishing the
stored plan instead gives exactly what the uninterrupted run would have written (REL-3), and saves
the redelivered run its solve.

The plan is (attorney pk, case pk, score) triples as int64, zlib-compressed: about 1.5 MB for
200,000 proposals. Nothing personal: ids and integers.
"""

import zlib
from datetime import timedelta

import numpy as np
from django.db.models import Q
from django.utils import timezone

from matching.models import MatchingRun
from matching.pipeline.load import Problem
from matching.pipeline.load.problem import attorney_ids, case_ids, solution_pks
from matching.solver import Pairs, Solution
from matching.solver.arrays import lexsort_ints

# A plan older than this is dropped: the world it was solved for has moved on, so a fresh
# solve serves better (writing an old plan would still be safe: every write re-checks).
RESUME_WITHIN = timedelta(hours=2)


def encode(solution: Solution) -> bytes:
    """The plan's bytes: the triples sorted by (attorney, case)."""
    attorney, case, score = solution_pks(solution)
    triples = np.column_stack((attorney, case, score)).astype(np.int64, copy=False)
    return zlib.compress(triples[lexsort_ints((case, attorney))].tobytes(), level=1)


def decode(blob: bytes) -> np.ndarray:
    return np.frombuffer(zlib.decompress(bytes(blob)), dtype=np.int64).reshape(-1, 3)


def take_interrupted_plan() -> tuple[int, bytes] | None:
    """The newest plan left by a run that did not finish (killed, or failed on a database
    error), as (its run's pk, the plan); every older plan is discarded.

    Call only while holding the single-flight lock: then no run that owns a plan is alive.
    """
    recent = timezone.now() - RESUME_WITHIN
    left = MatchingRun.objects.exclude(plan=None).exclude(status=MatchingRun.Status.FINISHED)
    found = left.filter(started_at__gte=recent).order_by("-started_at").values_list("pk", "plan")
    taken = found.first()
    MatchingRun.objects.filter(~Q(plan=None)).update(plan=None)
    if taken is None or taken[1] is None:  # (the query excludes a null plan)
        return None
    return taken[0], bytes(taken[1])


def remaining(problem: Problem, blob: bytes) -> Solution:
    """The plan's pairs that can still be written: case still open, attorney still available.

    The write phase checks capacity and status again under row locks, as for a fresh plan.
    The pairs stay arrays (ids made by numpy, as the solver's own), as a fresh solve's.
    """
    triples = decode(blob)
    keep = np.isin(triples[:, 0], problem.attorneys.pk) & np.isin(triples[:, 1], problem.case_pk)
    attorney, case, score = (np.ascontiguousarray(column) for column in triples[keep].T)
    every = np.arange(len(score), dtype=np.int64)
    pairs = Pairs(attorney_ids(attorney), case_ids(case), every, every, score)
    return Solution(objective=int(score.sum()), pairs=pairs)
