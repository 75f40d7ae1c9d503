"""Seeding a backlog-scale world for benchmarks (the ``seed_scale`` command's work).

- ``common``: the scale markers (email domain, summary prefix, run trigger), ``copy_rows``
  (COPY on PostgreSQL, ``bulk_create`` elsewhere) and shared drawing helpers.
- ``reset``: ``scale_reset``, deleting every scale row with plain SQL.
- ``attorneys``: ``seed_attorneys``, with their languages and practice areas.
- ``cases``: ``seed_cases``, open cases in batches, priorities by lookup tables.
- ``matches``: ``seed_matches``, a match history planned over the free scale rows
  (``world`` reads those rows; ``match_rows`` dates, scores and writes the matches).
"""

from matching.scale.attorneys import seed_attorneys
from matching.scale.cases import seed_cases
from matching.scale.common import BATCH, RUN_TRIGGER, SCALE_DOMAIN, SCALE_SUMMARY, copy_rows
from matching.scale.matches import seed_matches
from matching.scale.reset import scale_reset

__all__ = [
    "BATCH",
    "RUN_TRIGGER",
    "SCALE_DOMAIN",
    "SCALE_SUMMARY",
    "copy_rows",
    "scale_reset",
    "seed_attorneys",
    "seed_cases",
    "seed_matches",
]
