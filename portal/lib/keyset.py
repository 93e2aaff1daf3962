"""Keyset pages by id with opaque cursors: deep pages cost what the first one does, and no page
counts the whole set (``portal/lib/counting.py``: exact up to 10,000, estimated above)."""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass

from django.db.models import QuerySet

from .counting import bounded_count
from .errors import InvalidInput


@dataclass
class KeysetPage:
    items: list
    next: str | None
    prev: str | None
    page_number: int
    page_count: int
    total: int
    estimated: bool  # total (and, deep in the set, page_number) is the planner's estimate


def encode_cursor(direction: str, pk: int) -> str:
    """The opaque cursor for the page after (``"next"``) or before (``"prev"``) the row ``pk``."""
    return (
        base64.urlsafe_b64encode(json.dumps({"d": direction, "id": pk}).encode())
        .decode()
        .rstrip("=")
    )


def decode_cursor(cursor: str) -> tuple[str, int]:
    """(direction, id) of a cursor ``encode_cursor`` made, else InvalidInput naming ``cursor``."""
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        direction, pk = data["d"], data["id"]
        if direction not in ("next", "prev") or not isinstance(pk, int):
            raise ValueError
    except (ValueError, KeyError, TypeError, binascii.Error, UnicodeDecodeError):
        raise InvalidInput("Invalid cursor", field="cursor") from None
    return direction, pk


def keyset_page(
    queryset: QuerySet, *, limit: int, cursor: str = "", newest_first: bool = True
) -> KeysetPage:
    """One page of ``queryset`` by id with opaque next/prev cursors (two queries, three after a
    cursor; one more for each count above 10,000)."""
    forward, backward = ("-id", "id") if newest_first else ("id", "-id")
    beyond, before = ("id__lt", "id__gt") if newest_first else ("id__gt", "id__lt")
    total = bounded_count(queryset)
    direction, pk = decode_cursor(cursor) if cursor else ("next", None)
    if direction == "next":
        rows = queryset if pk is None else queryset.filter(**{beyond: pk})
        items = list(rows.order_by(forward)[: limit + 1])  # one more: is there a next page?
        has_next, items = len(items) > limit, items[:limit]
    else:
        items = list(queryset.filter(**{before: pk}).order_by(backward)[:limit])[::-1]
        has_next = True  # the row the cursor came from follows
    # Without a cursor the page starts at the beginning: nothing precedes it, no need to count.
    preceding = (
        bounded_count(queryset.filter(**{before: items[0].pk})) if items and cursor else None
    )
    return KeysetPage(
        items=items,
        next=encode_cursor("next", items[-1].pk) if items and has_next else None,
        prev=encode_cursor("prev", items[0].pk) if preceding and preceding.value else None,
        page_number=preceding.value // limit + 1 if preceding else 1,
        page_count=max(1, math.ceil(total.value / limit)),
        total=total.value,
        estimated=total.estimated or bool(preceding and preceding.estimated),
    )
