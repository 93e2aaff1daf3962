"""A JSON list streamed straight from a database cursor: the worker's memory stays the same
whatever the number of rows.

The reply is ``{"<key>":[…]}`` byte for byte as DRF's ``JSONRenderer`` writes it (compact
separators, UTF-8, U+2028/U+2029 escaped). On PostgreSQL the rows come through a server-side
cursor inside a transaction (so PostgreSQL does not copy the whole result first, as it does
for a cursor held past its transaction); SQLite reads its result lazily anyway and must not
hold a write lock (IMMEDIATE transactions) while a client reads.

The cursor is opened and its first chunk fetched *before* the response is returned, so a
database failure up to there still answers the API's clean JSON error (503). A failure after
the first byte has been sent can only cut the reply short: the client gets truncated JSON
(and, with chunked transfer encoding, no final chunk), never a well-formed partial list.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from itertools import islice

from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import StreamingHttpResponse

CHUNK_ROWS = 2000


def _encode(values: list) -> bytes:
    """``values`` as JSON list items, without the brackets (as DRF writes them)."""
    text = json.dumps(values, ensure_ascii=False, allow_nan=False, separators=(",", ":"))[1:-1]
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029").encode()


class StreamedJSONList:
    """The body ``{"<key>":[…]}`` of ``values`` (a flat ``values_list`` queryset), chunk by
    chunk. Django closes it when the response is closed (finished, or the client went away),
    which ends its transaction."""

    def __init__(self, key: str, values: QuerySet, chunk_rows: int = CHUNK_ROWS) -> None:
        self._head = b"{" + json.dumps(key).encode() + b":["
        self._chunk_rows = chunk_rows
        self._atomic = transaction.atomic(savepoint=False) if _needs_transaction() else None
        if self._atomic is not None:
            self._atomic.__enter__()
        try:
            self._rows = values.iterator(chunk_size=chunk_rows)
            self._first = list(islice(self._rows, chunk_rows))
        except BaseException as exc:
            self._finish(exc)
            raise

    def __iter__(self) -> Iterator[bytes]:
        try:
            first, self._first = self._first, []
            yield self._head + _encode(first)
            while chunk := list(islice(self._rows, self._chunk_rows)):
                yield b"," + _encode(chunk)
            yield b"]}"
        except BaseException as exc:
            self._finish(exc)
            raise
        self._finish(None)

    def close(self) -> None:
        self._finish(None)

    def _finish(self, exc: BaseException | None) -> None:
        atomic, self._atomic = self._atomic, None
        if atomic is not None:
            atomic.__exit__(type(exc) if exc else None, exc, exc.__traceback__ if exc else None)


def _needs_transaction() -> bool:
    return connection.vendor == "postgresql"


def streamed_json_list(key: str, values: QuerySet) -> StreamingHttpResponse:
    """A 200 reply ``{"<key>": [...values]}`` streamed from ``values`` (see the module)."""
    return StreamingHttpResponse(StreamedJSONList(key, values), content_type="application/json")
