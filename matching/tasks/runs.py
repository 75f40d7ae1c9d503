"""Matching-run tasks."""
