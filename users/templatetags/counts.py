"""The one way the pages show a bounded count (``portal/lib/counting.py``): the number while
it is exact, "more than 10,000" above the limit, where it is only the planner's estimate.

``{% load counts %}{{ counts.total|bounded }}``; ``pluralize`` still takes the number.
"""

from __future__ import annotations

from django import template

from portal.lib import counting

register = template.Library()


@register.filter
def bounded(value: int) -> str:
    """``value`` itself up to the limit, "more than <limit>" above it."""
    limit = counting.EXACT_COUNT_LIMIT
    return f"more than {limit:,}" if value > limit else str(value)
