"""Counts that never read a whole large set: exact up to ``EXACT_COUNT_LIMIT``, the
planner's estimate above it.

Counting a filtered million-row set costs a scan of every match on each page; users of a
list only need "how many, roughly" beyond a few thousand. The exact count stops reading after
``EXACT_COUNT_LIMIT + 1`` rows; above that PostgreSQL's estimate (``EXPLAIN``, no rows read)
is used. SQLite has no estimate and counts exactly (small installs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

EXACT_COUNT_LIMIT = 10_000


@dataclass(frozen=True)
class Count:
    value: int
    estimated: bool  # True: above EXACT_COUNT_LIMIT, from the planner

    @property
    def more_than_limit(self) -> bool:
        return self.value > EXACT_COUNT_LIMIT


def bounded_count(queryset: QuerySet) -> Count:
    """How many rows ``queryset`` has: exact up to ``EXACT_COUNT_LIMIT`` (one query),
    PostgreSQL's planner estimate above (one more, never below the limit + 1)."""
    rows = queryset.order_by().values("pk")
    capped = rows[: EXACT_COUNT_LIMIT + 1].count()
    if capped <= EXACT_COUNT_LIMIT:
        return Count(capped, False)
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return Count(rows.count(), False)
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return Count(max(EXACT_COUNT_LIMIT + 1, int(plan[0]["Plan"]["Plan Rows"])), True)


class BoundedPaginator(Paginator):
    """Django's paginator counting with ``bounded_count``: past 10,000 rows its ``count`` and
    page count are estimates (``estimated``), which the pages show as "more than 10,000"."""

    @cached_property
    def bounded(self) -> Count:
        return bounded_count(self.object_list)

    @cached_property
    def count(self) -> int:
        return self.bounded.value

    @property
    def estimated(self) -> bool:
        return self.bounded.estimated
