"""Body parsers for both APIs (kept apart from the views: DRF imports them while it loads its
settings)."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import QueryDict
from rest_framework import exceptions
from rest_framework.parsers import FormParser, JSONParser

from portal.encoding import is_strict_utf8_urlencoded


class StrictJSONParser(JSONParser):
    """JSON whose strings are all valid Unicode: ``"\\ud800"`` (a lone surrogate) parses in
    Python but can be neither stored nor hashed, so it is a malformed body (400); so is
    JSON nested deeper than Python's recursion limit, which is no error DRF expects."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except RecursionError:
            raise exceptions.ParseError("JSON parse error - nested too deeply") from None
        except UnicodeEncodeError:
            raise exceptions.ParseError("JSON parse error - lone surrogate in a string") from None
        return data


class StrictFormParser(FormParser):
    """Form bodies whose values are UTF-8: DRF's parser would store U+FFFD for other bytes."""

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        if not is_strict_utf8_urlencoded(raw):
            raise exceptions.ParseError("form body is not valid UTF-8")
        return QueryDict(raw, encoding=settings.DEFAULT_CHARSET)
