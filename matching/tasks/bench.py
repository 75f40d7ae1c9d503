"""The worker side of ``bench_split_solve`` (docs/scaling.md): a case shard's summary and fills
(the exact split), and a region's own solve (the inexact one).

Benchmark tasks, no database and no personal data: a message carries the seeded world's
parameters and the shard number, the results carry cell keys, priority counts and solver ids.
"""

from types import ModuleType

from celery import shared_task


@shared_task(name="matching.bench_shard_prepare")
def shard_prepare_task(spec: dict) -> dict:
    return _shards().prepare(spec)


@shared_task(name="matching.bench_shard_summary")
def shard_summary_task(spec: dict) -> dict:
    return _shards().summarise(spec)


@shared_task(name="matching.bench_shard_assign")
def shard_assign_task(spec: dict, fills: dict) -> dict:
    return _shards().assign(spec, fills)


@shared_task(name="matching.bench_region_solve")
def region_solve_task(spec: dict) -> dict:
    return _shards().region(spec)


def _shards() -> ModuleType:
    # Imported when a benchmark task runs: every process imports this module at start-up.
    from matching.scale import shards

    return shards
