"""v1 API: the audit trail."""

from __future__ import annotations

from datetime import date

from rest_framework.request import Request

from portal.json_replies import audit_json
from portal.lib.dates import parse_day
from portal.lib.errors import InvalidInput
from portal.lib.keyset import keyset_page
from users import selectors

from .endpoint import V1ViewSet, v1_action
from .openapi import AUDIT_ENTRY, PAGE, PAGE_PARAMS, V1Param
from .params import Params


def _day(p: Params, name: str) -> date | None:
    value = p.optional(name)
    return parse_day(value, name) if value else None


class AuditTrailViewSet(V1ViewSet):
    """The audit trail, newest first, filtered and in keyset pages."""

    @v1_action(
        "GET",
        "audit_trail/fetch",
        params=[
            V1Param("action_filter", "Only entries of this action type."),
            V1Param("search_term", "Text in the message, actor or target."),
            V1Param("start_date", "First day (yyyy-mm-dd, UTC)."),
            V1Param("end_date", "Last day (yyyy-mm-dd, UTC)."),
            V1Param("after_id", "Only entries with a larger id.", kind="integer", minimum=0),
            *PAGE_PARAMS,
        ],
        success={"audit_trail": {"type": "array", "items": AUDIT_ENTRY}, **PAGE},
    )
    def audit_trail_fetch(self, request: Request, p: Params) -> dict:
        """Fetch audit log entries, newest first, a page at a time."""
        start, end = _day(p, "start_date"), _day(p, "end_date")
        if start and end and start > end:
            raise InvalidInput("start_date is after end_date", field="start_date")
        entries = selectors.audit_entries(
            action_type=p.optional("action_filter"),
            search=p.optional("search_term"),
            start=start,
            end=end,
            after_id=p.integer("after_id", 0) or None,
        )
        page = keyset_page(
            entries,
            limit=p.integer("limit", 100, minimum=1, maximum=1000),
            cursor=p.optional("cursor"),
        )
        return {
            "audit_trail": [audit_json(entry) for entry in page.items],
            "cursor": {"next": page.next, "prev": page.prev},
            "page_count": page.page_count,
            "page_number": page.page_number,
        }
