"""CSV exports of admin changelists (SEC-24): streamed, formula-safe, and written to the event log.

The event records what was exported (model, row count, whether identifiers were in it), never the
data itself.
"""

import csv
from collections.abc import Callable, Iterable, Iterator

from django.contrib import messages
from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from core.services import event_record

EXPORT_LIMIT = 50_000
CHUNK_SIZE = 2_000


# What a spreadsheet may read as the start of a formula (OWASP's list): a tab or a carriage
# return before the "=" is skipped by some spreadsheets, so they count too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(row: Iterable) -> list:
    """No cell may start a spreadsheet formula (CSV injection through a court or language name)."""
    return [f"'{v}" if isinstance(v, str) and v[:1] in FORMULA_STARTS else v for v in row]


def iso(value) -> str:
    """A date or time as ISO 8601 for an export cell; empty when unset."""
    return value.isoformat() if value else ""


class _Echo:
    """A file-like object whose write returns the line, for csv.writer over a stream."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    writer = csv.writer(_Echo())
    yield writer.writerow(csv_safe(header))
    for row in rows:
        yield writer.writerow(csv_safe(row))


def csv_export(
    request,
    *,
    model: str,
    queryset: QuerySet,
    header: list[str],
    row: Callable[[object], list],
    identifiers: bool = False,
    filename: str | None = None,
    limit: int | None = None,
) -> StreamingHttpResponse | None:
    """Stream `queryset` as CSV and log one "admin.exported" event.

    More than `limit` rows is refused with a message, never cut short in silence: a coordinator
    must not mistake a partial file for the whole list.
    """
    limit = EXPORT_LIMIT if limit is None else limit
    count = queryset[: limit + 1].count()
    if count > limit:
        messages.error(
            request, f"More than {limit:,} rows selected: narrow the filters and export again."
        )
        return None  # the admin shows the changelist again, with the message
    rows = queryset
    event_record(
        verb="admin.exported",
        actor=request.user,
        data={"model": model, "rows": count, "identifiers": identifiers},
    )
    objects = rows.iterator(chunk_size=CHUNK_SIZE)
    response = StreamingHttpResponse(
        csv_lines(header, (row(obj) for obj in objects)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename or model + "s"}.csv"'
    return response
