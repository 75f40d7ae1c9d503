"""What every scale module shares: the markers that find scale rows again, and inserting."""

from collections.abc import Iterable
from typing import Any

import numpy as np
from django.core.management.base import CommandError
from django.db import connection, models, transaction
from django.utils import timezone

SCALE_DOMAIN = "scale.probono.test"
SCALE_SUMMARY = "[scale]"
BATCH = 50_000
RUN_TRIGGER = "seed_scale"  # marks the runs --matches invents, so --reset can find them


def _pick(rng: np.random.Generator, weights: dict[str, int], size: int) -> np.ndarray:
    keys = list(weights)
    p = np.array(list(weights.values()), dtype=float)
    return np.array(keys, dtype=object)[rng.choice(len(keys), size=size, p=p / p.sum())]


def copy_rows(model: type[models.Model], columns: list[str], rows: Iterable[tuple]) -> None:
    """Insert rows, filling every other column with its model default.

    PostgreSQL: one COPY per call. Elsewhere: INSERTs in batches (not bulk_create, which would
    overwrite the created_at the rows carry with "now": auto_now_add).
    """
    extra_fields, extra_values = _defaults(model, columns)
    fields = [_concrete_field(model, _field_name(model, c)) for c in columns]
    db_columns = [_column(f) for f in fields]
    db_columns += [_column(_concrete_field(model, f)) for f in extra_fields]
    # Defaults in their database form (an encrypted field encrypts its empty default).
    extra_db = tuple(
        _concrete_field(model, f).get_db_prep_save(v, connection)
        for f, v in zip(extra_fields, extra_values, strict=True)
    )
    table = model._meta.db_table
    if connection.vendor != "postgresql":
        names = ", ".join(connection.ops.quote_name(c) for c in db_columns)
        marks = ", ".join(["%s"] * len(db_columns))
        sql = f"INSERT INTO {connection.ops.quote_name(table)} ({names}) VALUES ({marks})"  # noqa: S608
        with transaction.atomic(), connection.cursor() as cursor:
            for batch in _batches(rows, 2000):
                cursor.executemany(sql, [(*_prepared(fields, row), *extra_db) for row in batch])
        return
    query = f"COPY {table} ({', '.join(db_columns)}) FROM STDIN"
    with transaction.atomic(), connection.cursor() as cursor, cursor.cursor.copy(query) as copy:
        for row in rows:
            copy.write_row((*row, *extra_db))


def _prepared(fields: list, row: tuple) -> tuple:
    return tuple(f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True))


def _batches(rows: Iterable[tuple], size: int) -> Iterable[list[tuple]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _field_name(model: type[models.Model], column: str) -> str:
    for f in model._meta.concrete_fields:
        if column in (f.name, f.attname):
            return f.name
    raise CommandError(f"{model.__name__} has no field {column!r}")


def _concrete_field(model: type[models.Model], name: str) -> "models.Field[Any, Any]":
    field = model._meta.get_field(name)
    if not isinstance(field, models.Field):  # a reverse relation: no column of its own
        raise CommandError(f"{model.__name__}.{name} is not a column")
    return field


def _column(field: "models.Field[Any, Any]") -> str:
    if field.column is None:  # only a field not yet attached to a model has none
        raise CommandError(f"{field!r} has no column")
    return field.column


def _defaults(model: type[models.Model], columns: list[str]) -> tuple[list[str], list]:
    now = timezone.now()
    given = {_field_name(model, c) for c in columns}
    names, values = [], []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.name in given:
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            value = now
        elif f.has_default():
            value = f.get_default()
        elif f.null:
            value = None
        else:
            value = f.get_default()  # "" for text fields
        names.append(f.attname)
        values.append(value)
    return names, values
