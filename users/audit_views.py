"""The audit log page and downloads of its filtered view (admins only)."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import UTC

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone

from flocks.models import Flock
from portal.json_replies import audit_json
from portal.lib.access import admin_required
from portal.lib.errors import PortalError
from portal.lib.keyset import keyset_page

from . import selectors
from .forms import AuditFilterForm
from .models import AuditEntry

ENTRIES_PER_PAGE = 50
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_COLUMNS = ["id", "timestamp", "action_type", "user", "target", "flock_id", "message", "user_ip"]


def _filter_form(request: HttpRequest) -> AuditFilterForm:
    return AuditFilterForm(request.GET, action_types=selectors.action_types(), viewer=request.user)


def _suggestions(request: HttpRequest, flocks: list[Flock]) -> list[tuple[str, str]]:
    """(name, query string of the same filter with that flock) for each suggested flock."""
    links = []
    for flock in flocks:
        query = request.GET.copy()
        query.pop("cursor", None)
        query["flock"] = flock.name
        links.append((flock.name, query.urlencode()))
    return links


@admin_required
def audit_log(request: HttpRequest) -> HttpResponse:
    form = _filter_form(request)
    context = {"section": "audit", "form": form, "page": None}
    if not form.is_valid():
        context["flock_suggestions"] = _suggestions(request, form.flock_suggestions)
        return render(request, "users/audit.html", context, status=400)
    try:
        page = keyset_page(
            selectors.audit_entries(**form.filters()),
            limit=ENTRIES_PER_PAGE,
            cursor=request.GET.get("cursor", ""),
        )
    except PortalError as exc:  # a forged cursor
        form.add_error(None, exc.message)
        return render(request, "users/audit.html", context, status=400)
    query = request.GET.copy()
    query.pop("cursor", None)
    context.update(page=page, query=query.urlencode())
    return render(request, "users/audit.html", context)


@admin_required
def audit_download(request: HttpRequest, fmt: str) -> HttpResponse:
    """The whole filtered view, newest first, streamed as CSV or JSON."""
    form = _filter_form(request)
    if not form.is_valid():
        return HttpResponse(
            "Invalid filter: " + form.errors.as_text(), status=400, content_type="text/plain"
        )
    entries = selectors.audit_entries(**form.filters()).order_by("-id").iterator(chunk_size=2000)
    body = _csv(entries) if fmt == "csv" else _json(audit_json(entry) for entry in entries)
    response = StreamingHttpResponse(
        body, content_type="text/csv" if fmt == "csv" else "application/json"
    )
    response["Content-Disposition"] = f'attachment; filename="{download_name(form, fmt)}"'
    return response


def download_name(form: AuditFilterForm, fmt: str) -> str:
    """``audit-log-<from>-to-<to>.<fmt>``: the date range a downloaded file covers, so two
    downloads do not overwrite each other and the file says what it holds."""
    start, end = form.cleaned_data["start"], form.cleaned_data["end"]
    end_text = (end or timezone.now().astimezone(UTC).date()).isoformat()
    if start:
        return f"audit-log-{start.isoformat()}-to-{end_text}.{fmt}"
    return f"audit-log-until-{end_text}.{fmt}"


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (names and e-mails come
    from users)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in FORMULA_STARTS else text


def _csv(entries: Iterator[AuditEntry]) -> Iterator[str]:
    """The v1 fields of each entry, but the time in ISO 8601 (UTC), which spreadsheets and
    scripts read without a format string (the JSON export keeps the v1 API's format)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for entry in entries:
        row = audit_json(entry)
        row["timestamp"] = entry.timestamp.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        yield writer.writerow([_cell(row[column]) for column in CSV_COLUMNS])


def _json(rows: Iterator[dict]) -> Iterator[str]:
    yield "["
    for index, row in enumerate(rows):
        yield ("," if index else "") + json.dumps(row)
    yield "]\n"
