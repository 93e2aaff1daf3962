"""v1 parameters: read from the query string and the body alike, as the v1 contract sends them."""

from __future__ import annotations

from rest_framework import exceptions

from portal.encoding import is_strict_utf8_urlencoded
from portal.lib.errors import InvalidInput

TRUE_WORDS = {"true", "1", "yes"}
FALSE_WORDS = {"false", "0", "no"}


def split_list(value: str) -> list[str]:
    """Items of a comma-separated parameter, stripped, empty ones and repeats dropped."""
    items = [item.strip() for item in (value or "").split(",")]
    return list(dict.fromkeys(item for item in items if item))


class Params:
    """v1 parameters, read from the query string and the body alike (DELETE too)."""

    def __init__(self, request) -> None:
        self._query = request.query_params
        if not is_strict_utf8_urlencoded(request.META.get("QUERY_STRING", "")):
            raise InvalidInput("Malformed query string: not valid UTF-8")
        try:
            self._body = request.data
        except exceptions.ParseError as exc:
            raise InvalidInput(f"Malformed request body: {exc.detail}") from None

    def get(self, name: str) -> str | None:
        value = self._body.get(name) if hasattr(self._body, "get") else None
        if value is None:
            value = self._query.get(name)
        if value is not None and not isinstance(value, str):
            value = str(value)
        if value is not None and "\x00" in value:  # PostgreSQL refuses NUL even in a lookup
            raise InvalidInput(f"Invalid {name}: must not contain NUL characters", field=name)
        return value

    def required(self, name: str) -> str:
        value = self.get(name)
        if value is None or value == "":
            raise InvalidInput(f"Missing parameter: {name}", field=name)
        return value

    def optional(self, name: str, default: str = "") -> str:
        value = self.get(name)
        return default if value is None else value

    def boolean(self, name: str, default: bool) -> bool:
        value = self.get(name)
        if value is None or value == "":
            return default
        word = value.strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise InvalidInput(f"Invalid boolean for {name}: use true or false", field=name)

    def integer(self, name: str, default: int, minimum: int = 0, maximum: int | None = None) -> int:
        value = self.get(name)
        if value is None or value == "":
            return default
        try:
            number = int(value)
        except ValueError:
            raise InvalidInput(f"Invalid integer for {name}", field=name) from None
        if number < minimum or (maximum is not None and number > maximum):
            raise InvalidInput(f"{name} out of range", field=name)
        return number
