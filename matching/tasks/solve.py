"""The per-component solve a run fans out across workers (matching/pipeline/fanout.py).

A module of its own that imports only the pure solver: the run pipeline publishes this task, and
nothing here can lead back to the pipeline, so the import goes one way.
"""

from celery import shared_task

from matching.solver import load_instance, solution_to_json, solve_component


@shared_task(name="matching.solve_component", acks_late=True, reject_on_worker_lost=True)
def solve_component_task(instance: dict) -> dict:
    """Solve one component batch (the solver's anonymous JSON format in, solution JSON out).

    Pure: no database. A run split across workers sends ``components(instance)`` through a group
    of these and merges the results with ``merge_solutions``; the merged result equals the
    single-process solve because components share no attorney and no case.
    """
    return solution_to_json(solve_component(load_instance(instance)))
