"""Celery tasks of the matching app; autodiscovery imports this package.

`runs`: matching runs (scheduled, on demand, debounced, split by component).
`lifecycle`: offer expiry, reminders and notifications.
"""

from matching.tasks import lifecycle, runs

__all__ = ["lifecycle", "runs"]
