"""Matching runs: the service lives in the `matching.pipeline` package; this is its entry point."""

from matching.pipeline.load import load_problem
from matching.pipeline.run import matching_run

__all__ = ["load_problem", "matching_run"]
