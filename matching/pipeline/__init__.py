"""The matching pipeline (ARCHITECTURE.md): load and score (`load`), write (`write`), and the run
service that ties them together under a single-flight lock (`run`)."""

from matching.pipeline.run import matching_run

__all__ = ["matching_run"]
