"""Keep API tokens out of every log line: v1 clients may send ``auth_token`` in the query
string (the contract allows it), which access logs would otherwise write in clear."""

from __future__ import annotations

import logging
import re

from gunicorn.glogging import Logger

# The name as clients may spell it in a query string: auth_token, auth%5Ftoken, auth%5ftoken.
_TOKEN = re.compile(r"(auth(?:_|%5f)token=)[^&\s\"']*", flags=re.IGNORECASE)


def redact(text: str) -> str:
    return _TOKEN.sub(r"\1***", text)


class RedactTokens(logging.Filter):
    """A logging filter for the portal's handlers (runserver's request lines included)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "token=" in message.lower():
            record.msg, record.args = redact(message), ()
        return True


class RedactingGunicornLogger(Logger):
    """gunicorn's access log (``logger_class`` in portal/gunicorn.py) with tokens masked."""

    def atoms(self, resp, req, environ, request_time) -> dict:
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "q", "f"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms
