"""Strict checks of URL-encoded text: Django and DRF decode form bodies and query strings
with ``errors="replace"``, which would silently store U+FFFD for bytes that are not UTF-8."""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

_SEPARATORS = re.compile(rb"[&;=]")


def is_strict_utf8_urlencoded(raw: bytes | str) -> bool:
    """True when every name and value of ``raw`` (a form body or query string) decodes as UTF-8
    once percent-escapes are undone."""
    if isinstance(raw, str):
        raw = raw.encode("latin-1", errors="replace")
    try:
        for part in _SEPARATORS.split(raw):
            unquote_to_bytes(part.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
