"""URL converters bounded to values a row can have, so any other value is a 404 from the
URL resolver itself, before a query (SQLite overflows past 2**63; PostgreSQL refuses NUL)."""

from __future__ import annotations

from django.urls import register_converter
from django.urls.converters import IntConverter, StringConverter


class IdConverter(IntConverter):
    """A primary key: 1 to 18 digits, always below 2**63."""

    regex = "[0-9]{1,18}"


class FlockIdConverter(StringConverter):
    """``flock:default`` or ``flock:`` and 32 hex digits, the only ids a flock gets."""

    regex = "flock:(?:default|[0-9a-f]{32})"


register_converter(IdConverter, "id")
register_converter(FlockIdConverter, "flock_id")
