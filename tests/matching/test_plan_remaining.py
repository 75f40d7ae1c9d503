"""The part of a stored plan a resumed run can still write (matching/pipeline/plan.py,
``remaining``), read from the plan's bytes into arrays. No database needed."""

from types import SimpleNamespace

import numpy as np

from matching.pipeline import plan as plans
from matching.pipeline.load import attorney_id, case_id
from matching.solver import Assignment, Solution


def test_the_remaining_pairs_are_the_plans_still_loaded_ones():
    # Attorney 10**9 + 5 has a wider id than the format's (one at a time).
    triples = [(3, 40, 7), (3, 41, 9), (8, 12, 5), (10**9 + 5, 13, 4), (2, 99, 6), (8, 50, 8)]
    solved = Solution(
        objective=sum(score for *_, score in triples),
        assignments=sorted(Assignment(attorney_id(a), case_id(c), s) for a, c, s in triples),
    )
    problem = SimpleNamespace(
        attorneys=SimpleNamespace(pk=np.array([3, 8, 10**9 + 5])),  # 2 is gone
        case_pk=np.array([12, 13, 40, 41, 99]),  # 50 is gone
    )

    left = plans.remaining(problem, plans.encode(solved))

    kept = [t for t in triples if t[0] != 2 and t[1] != 50]
    assert left == Solution(
        objective=sum(score for *_, score in kept),
        assignments=sorted(Assignment(attorney_id(a), case_id(c), s) for a, c, s in kept),
    )
    assert left.assigned == 4
