"""Settings for the processes that tests/matching/test_reliability_processes.py starts.

The project's settings, with a run's proposals written one component per transaction, so that
a killed worker or a database restart can land between two committed batches.
"""

from config.settings import *  # noqa: F403

MATCHING_WRITE_BATCH_ASSIGNMENTS = 1
