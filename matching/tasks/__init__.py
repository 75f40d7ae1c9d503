"""Celery tasks of the matching app; autodiscovery imports this package.

`runs`: matching runs (scheduled, on demand, debounced).
`solve`: one component's solve, for a run split across workers.
`lifecycle`: offer expiry, reminders and notifications.
"""

from matching.tasks import lifecycle, runs, solve

__all__ = ["lifecycle", "runs", "solve"]
