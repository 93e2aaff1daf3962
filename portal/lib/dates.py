"""Dates as the APIs and pages take them."""

from __future__ import annotations

from datetime import date

from .errors import InvalidInput


def parse_day(value: str, field: str) -> date:
    """A yyyy-mm-dd day, else InvalidInput naming ``field``."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"Invalid {field}: use yyyy-mm-dd", field=field) from None
