"""The matching pipeline (ARCHITECTURE.md). Its one entry is ``matching.pipeline.run.matching_run``,
the run service that the tasks, the admin and the commands call; ``load`` loads and scores the
problem, the solver (matching/solver/) solves it, ``write`` writes the proposals."""
