"""Body parsers for both APIs (kept apart from common.py: DRF reads them while it loads)."""

from __future__ import annotations

import json

from rest_framework import exceptions
from rest_framework.parsers import JSONParser


class StrictJSONParser(JSONParser):
    """JSON whose strings are all valid Unicode: ``"\\ud800"`` (a lone surrogate) parses in
    Python but can be neither stored nor hashed, so it is a malformed body (400)."""

    def parse(self, stream, media_type=None, parser_context=None):
        data = super().parse(stream, media_type, parser_context)
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            raise exceptions.ParseError("JSON parse error - lone surrogate in a string") from None
        return data
