"""Admin changelists over tables of a million rows (cases, matches): count and render cheaply;
and the actions that decide each selected row through a service (rows_decided)."""

import json
from collections import Counter
from typing import ClassVar

from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection, connections, transaction
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext as _

from core.errors import DomainError
from core.roles import COORDINATOR_PERMISSION

# Below this many rows a changelist shows the exact count, even when counting reads the table.
EXACT_UP_TO = 10_000
# A count the planner expects to cost at most this many of its units is made exactly whatever
# its size: about 20,000 entries of an index that serves the filter (a few ms). Counting the
# whole table costs ~24,000 at 1,000,000 cases, a filter no index serves ~38,000.
CHEAP_COUNT_COST = 1_000


class EstimatedCountPaginator(Paginator):
    """Exact counts where they are small or cheap, the planner's estimate beyond.

    The changelist asks its paginator for ``count`` on every view (the "N results" line and the
    page links). A plain COUNT(*) reads every row the filters keep: 1,000,000 cases take
    ~100 ms of a 300 ms budget, on each page view, for a number nobody needs to the unit. So, on
    PostgreSQL:

    1. count the first EXACT_UP_TO + 1 rows only (``COUNT(*)`` over a ``LIMIT`` subquery, which
       stops early): at most EXACT_UP_TO, that is the exact count;
    2. beyond it, ask the planner what reading the rows would cost and how many it expects
       (``EXPLAIN``, which reads no rows); a cheap count (CHEAP_COUNT_COST: a filter an index
       serves, such as a case type or a court) is made exactly;
    3. otherwise the estimate is shown, never below what step 1 saw. After ANALYZE it is within
       a few percent; only the far page links depend on it: every linked page shows its rows in
       full (the last one is not cut at the estimate), the last few may be empty, or a few rows
       past the last link unlinked (the least urgent of a list of over 10,000).

    Other databases (tests on SQLite) count exactly.
    """

    estimated = False

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if connection.vendor != "postgresql" or not isinstance(queryset, QuerySet):
            return super().count
        seen = queryset.order_by()[: EXACT_UP_TO + 1].count()
        if seen <= EXACT_UP_TO:
            return seen
        cost, rows = _count_plan(queryset)
        if cost <= CHEAP_COUNT_COST:
            return queryset.count()
        self.estimated = True
        return max(seen, rows)

    def page(self, number):
        """Django's page, except that an estimate does not cut the last page short."""
        number = self.validate_number(number)  # counts first: that says if it estimated
        if not self.estimated:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        return self._get_page(self.object_list[bottom : bottom + self.per_page], number, self)


def rows_serially(queryset) -> list:
    """The rows of a page (a query with a small LIMIT), planned without parallel workers.

    Ordered by a column of another table (the match list by its case's priority), PostgreSQL
    walks that table's index and probes the other until the page is full. In parallel, each of
    three processes walks its own share until it has a page's worth: three times the probes,
    plus the workers' start (tens of ms on a loaded machine). The first page of proposed
    matches at 200,000 matches and 1,000,000 cases: 15 ms alone, 110 ms in parallel; other
    filters 1-2.5x faster alone, none slower (see the commit). SET LOCAL lasts to the end of
    the transaction: this one, or the caller's, where the old value is set back.
    """
    db = connections[queryset.db]
    if db.vendor != "postgresql":
        return list(queryset)
    outer = db.in_atomic_block
    with transaction.atomic(using=queryset.db), db.cursor() as cursor:
        setting = "max_parallel_workers_per_gather"
        cursor.execute("SELECT current_setting(%s), set_config(%s, '0', true)", [setting] * 2)
        before = cursor.fetchone()[0]
        rows = list(queryset)
        if outer:
            cursor.execute("SELECT set_config(%s, %s, true)", [setting, before])
    return rows


def _count_plan(queryset) -> tuple[float, int]:
    """What the planner expects reading the ids of ``queryset`` to cost (a count reads as much)
    and how many rows it expects (EXPLAIN reads no rows)."""
    plan = json.loads(queryset.order_by().values("pk").explain(format="json"))[0]["Plan"]
    return float(plan["Total Cost"]), int(plan["Plan Rows"])


class LargeTableAdminMixin:
    """For a ModelAdmin whose changelist pages through a table of a million rows."""

    paginator: ClassVar[type[Paginator]] = EstimatedCountPaginator
    show_full_result_count = False  # the "N total" link would COUNT(*) the whole table

    def action_checkbox(self, obj):
        """Django's row checkbox, same markup, without a form widget rendering its template for
        every row (about half a millisecond each: 50 ms of a 100-row page)."""
        label = format_html(_("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            obj.pk,
            label,
        )


def rows_decided(model_admin, request, queryset: QuerySet, decide, done: str) -> None:
    """An admin action that calls a service per selected row (`decide`), each in its own
    transaction, then tells the coordinator how many were `done` and why the others were refused,
    in the services' own words (DomainError.message), counted: "3 offered; 1 could not be: Only
    an approved match can be offered (1)." Coordinators only."""
    if not request.user.has_perm(COORDINATOR_PERMISSION):
        raise PermissionDenied
    succeeded, refused = 0, Counter[str]()
    for row in queryset.order_by("pk"):
        try:
            with transaction.atomic():
                decide(row)
        except DomainError as error:
            refused[error.message.rstrip(".")] += 1
        else:
            succeeded += 1
    text = f"{succeeded} {done}"
    if refused:
        reasons = "; ".join(f"{reason} ({n})" for reason, n in sorted(refused.items()))
        text += f"; {sum(refused.values())} could not be: {reasons}"
    level = messages.WARNING if refused else messages.SUCCESS
    model_admin.message_user(request, text + ".", level)
