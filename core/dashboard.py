"""The need dashboard: an admin page for coordinators, server-side HTML and SVG, every table as CSV.

No script and no inline style (the CSP allows neither): shading is a CSS class per cell, charts are
SVG rectangles whose geometry is computed here.
"""

import csv
from datetime import datetime

from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from cases.models import CaseRequest
from core.exports import csv_safe
from core.roles import COORDINATOR_PERMISSION
from core.selectors import NeedDashboard, need_dashboard
from core.services import event_record
from interpreters.selectors import interpreter_gaps

HEAT_LEVELS = 5
OUTCOME_COLUMNS = ["placed", "closed", *(label.lower() for label in CaseRequest.Outcome.labels)]
BAR_WIDTH, BAR_GAP, CHART_HEIGHT = 28, 6, 120
# The case counts as the page heads them: "matched" includes a run's unreviewed proposals, so it
# says so, and only "represented" means an attorney took the case (the public figure).
STATUS_HEADINGS = {
    "open": "open (no match)",
    "matched": "matched (proposed, approved or offered; not yet accepted)",
    "represented": "represented (attorney accepted)",
}
# The beat schedule recomputes the figures this often (core.refresh_need_dashboard)...
FIGURES_REFRESH_SECONDS = 120
# ...and a request recomputes them itself only when they are older than this (beat stopped).
FIGURES_TTL = 15 * 60


def dashboard_figures(*, refresh: bool = False) -> tuple[NeedDashboard, datetime]:
    """The dashboard's figures and when they were computed, as the beat schedule last left them.

    Computing them groups the whole backlog (1,000,000 cases: over a second on PostgreSQL), too
    slow for a page coordinators open many times an hour, so a worker recomputes them every
    FIGURES_REFRESH_SECONDS and requests read the result. The trade-off: the figures are counts
    and trends for planning (where the need is, how fast attorneys answer), not a work queue, so
    two minutes' delay costs nothing; the page says when they were computed and offers a
    refresh. Only a cold cache (first request, or beat stopped for FIGURES_TTL) or the refresh
    link makes a request compute them itself. The home page's public totals are among them.
    """
    key = _figures_key()
    cached = None if refresh else cache.get(key)
    if cached is None:
        cached = (need_dashboard(), timezone.now())
        cache.set(key, cached, FIGURES_TTL)
    return cached


def _figures_key() -> str:
    # Per database (several share a cache in development) and per day (figures use "today").
    # The version changes with NeedDashboard's fields: a figure cached by the previous release
    # would not unpickle into the new class.
    return f"need-dashboard:v4:{connection.settings_dict['NAME']}:{timezone.localdate()}"


def dashboard_view(request, site):
    if not request.user.has_perm(COORDINATOR_PERMISSION):
        raise PermissionDenied
    figures, computed_at = dashboard_figures(refresh="refresh" in request.GET)
    tables = dashboard_tables(figures)
    export = request.GET.get("export")
    if export:
        if export not in tables:
            raise Http404("No such table.")
        return _csv(request, export, tables[export])
    context = {
        **site.each_context(request),
        "title": "Need dashboard",
        "figures": figures,
        "computed_at": computed_at,
        "refresh_minutes": FIGURES_REFRESH_SECONDS // 60,
        "counts": [(STATUS_HEADINGS[status], n) for status, n in tables["status"][1]],
        "heat_rows": _heat_rows(figures),
        "by_case_type": figures.by_case_type,
        "capacity": figures.capacity_by_language,
        "declines": figures.decline_reasons,
        "weeks_chart": _bars(figures.matches_by_week),
        "capacity_chart": _bars(figures.capacity_by_language),
        "exports": list(tables),
        "outcome_header": tables["outcomes_by_organization_kind"][0][1:],
        "outcomes_by_kind": figures.outcomes_by_kind,
        "outcomes_by_organization": figures.outcomes_by_organization,
        "interpreter_gaps": _interpreter_gaps(refresh="refresh" in request.GET),
    }
    return TemplateResponse(request, "admin/dashboard.html", context)


def _interpreter_gaps(*, refresh: bool):
    """Languages where interpreters are the missing piece (issue 16 #4): a count over the open
    cases of a few languages, cached like the other figures (FIGURES_REFRESH_SECONDS)."""
    key = "interpreter-gaps:" + _figures_key()
    gaps = None if refresh else cache.get(key)
    if gaps is None:
        gaps = interpreter_gaps()
        cache.set(key, gaps, FIGURES_REFRESH_SECONDS)
    return gaps


def dashboard_tables(figures: NeedDashboard) -> dict[str, tuple[list[str], list[list]]]:
    """Every table on the page as (header, rows): the CSV exports and the page read these."""
    counts = figures.status_counts
    return {
        "status": (
            ["status", "cases"],
            [[s, counts.get(s, 0)] for s in ("open", "matched", "represented")],
        ),
        "unmatched_by_language_and_court": (
            ["language", *figures.heat_courts],
            [[lang, *row] for lang, row in zip(figures.heat_languages, figures.heat, strict=True)],
        ),
        "unmatched_by_case_type": (["case type", "open cases"], _rows(figures.by_case_type)),
        "free_capacity_by_language": (
            ["language", "free places"],
            _rows(figures.capacity_by_language),
        ),
        "matches_by_week": (
            ["week starting", "matches made (any status)"],
            _rows(figures.matches_by_week),
        ),
        "decline_reasons": (["reason", "declines"], _rows(figures.decline_reasons)),
        "outcomes_by_organization_kind": (
            ["kind of organization", *OUTCOME_COLUMNS],
            figures.outcomes_by_kind,
        ),
        "outcomes_by_organization": (
            ["organization", "kind", *OUTCOME_COLUMNS],
            figures.outcomes_by_organization,
        ),
        "median_hours_offer_to_answer": (
            ["median hours"],
            [
                [
                    figures.median_hours_to_answer
                    if figures.median_hours_to_answer is not None
                    else ""
                ]
            ],
        ),
    }


def _rows(pairs) -> list[list]:
    return [list(pair) for pair in pairs]


def _csv(request, name: str, table: tuple[list[str], list[list]]) -> HttpResponse:
    header, rows = table
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    writer = csv.writer(response)
    writer.writerow(header)
    writer.writerows(csv_safe(row) for row in rows)
    # Counts only, but an export is still recorded (SEC-24).
    event_record(verb="dashboard.exported", actor=request.user, data={"table": name})
    return response


def _heat_rows(figures: NeedDashboard) -> list[tuple[str, list[tuple[int, int]]]]:
    """(language, [(count, shade level 0..4)]) per row; levels scale to the busiest cell."""
    peak = max((n for row in figures.heat for n in row), default=0)
    return [
        (lang, [(n, _level(n, peak)) for n in row])
        for lang, row in zip(figures.heat_languages, figures.heat, strict=True)
    ]


def _level(n: int, peak: int) -> int:
    if n <= 0 or peak <= 0:
        return 0
    return max(1, min(HEAT_LEVELS - 1, round(n / peak * (HEAT_LEVELS - 1))))


def _bars(pairs) -> dict:
    """SVG geometry for a bar chart of (label, value) pairs."""
    peak = max((value or 0 for _, value in pairs), default=0) or 1
    bars = []
    for i, (label, value) in enumerate(pairs):
        height = round((value or 0) / peak * CHART_HEIGHT)
        x = i * (BAR_WIDTH + BAR_GAP)
        bars.append(
            {"label": label, "value": value, "x": x, "y": CHART_HEIGHT - height, "height": height}
        )
    width = max(1, len(pairs) * (BAR_WIDTH + BAR_GAP))
    return {"bars": bars, "width": width, "height": CHART_HEIGHT, "bar_width": BAR_WIDTH}
