"""The one way the pages show a moment: relative words ("3 days ago", "in 2 hours") in a
``<time>`` element carrying the exact UTC time as its ``datetime`` and on hover (``title``).

``{% load when %}{{ entry.timestamp|when }}``; an empty value shows ``never`` (or the
argument: ``{{ key.expires|when:"no expiry" }}``). A date without a time is a whole UTC day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html

register = template.Library()

# (seconds in the unit, its name), largest first; a month is 30 days, a year 365.
UNITS = (
    (365 * 86400, "year"),
    (30 * 86400, "month"),
    (86400, "day"),
    (3600, "hour"),
    (60, "minute"),
)


def relative(moment: datetime, now: datetime) -> str:
    """``moment`` in words from ``now``, in its largest whole unit."""
    seconds = int((now - moment).total_seconds())
    past = seconds >= 0
    seconds = abs(seconds)
    for size, name in UNITS:
        if seconds >= size:
            count = seconds // size
            words = f"{count} {name}{'' if count == 1 else 's'}"
            return f"{words} ago" if past else f"in {words}"
    return "just now" if past else "in under a minute"


def exact(moment: datetime) -> str:
    """The exact UTC time as every page spells it: ``2026-12-02 01:23 UTC``."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


@register.filter
def when(value: datetime | date | None, empty: str = "never") -> str:
    """``value`` as relative words in a ``<time>`` with the exact UTC time on hover."""
    if value is None or value == "":
        return format_html('<span class="muted">{}</span>', empty)
    if not isinstance(value, datetime):  # a day: its start, shown as the day
        day = datetime(value.year, value.month, value.day, tzinfo=UTC)
        now = timezone.now()
        today = now.date()
        if value == today:
            words = "today"
        else:
            words = relative(day, datetime(today.year, today.month, today.day, tzinfo=UTC))
        return format_html(
            '<time datetime="{}" title="{} (UTC)">{}</time>', value.isoformat(), value, words
        )
    utc = value.astimezone(UTC)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        exact(utc),
        relative(utc, timezone.now()),
    )


@register.filter
def at(value: datetime | None) -> str:
    """For sentences that state a moment ("paused until …", "by …"): the exact UTC time in a
    ``<time>``, with the relative words on hover; the same two parts as ``when``, swapped."""
    if value is None:
        return ""
    utc = value.astimezone(UTC)
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        relative(utc, timezone.now()),
        exact(utc),
    )
