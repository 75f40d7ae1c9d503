"""Celery tasks of the matching app; autodiscovery imports this package.

`runs`: matching runs (scheduled, on demand, debounced).
`solve`: one component's solve, for a run split across workers.
`lifecycle`: offer expiry, reminders and notifications.
`checkins`: status check-in e-mails, their reminders and the monthly check-in.
`bench`: the case shards of the split-solve benchmark (docs/scaling.md).
"""

from matching.tasks import bench, checkins, lifecycle, runs, solve

__all__ = ["bench", "checkins", "lifecycle", "runs", "solve"]
