"""Celery tasks of the matching app; autodiscovery imports this package.

`runs`: matching runs (scheduled, on demand, debounced).
`solve`: one component's solve, for a run split across workers.
`lifecycle`: offer expiry, reminders and notifications.
`checkins`: status check-in e-mails, their reminders and the monthly check-in.
"""

from matching.tasks import checkins, lifecycle, runs, solve

__all__ = ["checkins", "lifecycle", "runs", "solve"]
