"""Request guards that must run before any view reads the request, and the API's last
line of defence: every reply under /api/ is JSON, and none is cached."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse

from portal.api.errors import json_error
from portal.encoding import is_strict_utf8_urlencoded
from portal.errors import bad_request, database_unavailable, is_api, too_large, unavailable

logger = logging.getLogger("django.request")
FORM = "application/x-www-form-urlencoded"


class RequestGuardMiddleware:
    """Answer malformed requests with a clean 4xx before a view or Django's parser meets them.

    - A body declared larger than ``settings.API_MAX_BODY_BYTES``: 413, before anything reads it.
    - Pages: a NUL or bytes that are not UTF-8 in the path, the query string or a form body,
      too many form fields: 400 (the API checks its own parameters, after authentication,
      in the order its contract documents).
    - Under /api/: any fault becomes JSON (500 even with DEBUG on), and no reply is cached
      (they carry tokens, hashes and user data).
    - The database unreachable (OperationalError, InterfaceError): 503 with Retry-After.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _declared_length(request) > settings.API_MAX_BODY_BYTES:
            return too_large(request, settings.API_MAX_BODY_BYTES)
        if not is_api(request):
            refusal = _page_refusal(request)
            if refusal is not None:
                return refusal
        response = self.get_response(request)
        if is_api(request):
            response = _as_json(request, response)
            if not response.has_header("Cache-Control"):
                response["Cache-Control"] = "no-store"
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if database_unavailable(exception):
            # A restart of the database costs the requests in flight a 503, not a traceback each.
            logger.warning("Service Unavailable (database: %s): %s", exception, request.path)
            return unavailable(request)
        if not is_api(request):
            return None
        if isinstance(exception, RequestDataTooBig):
            return too_large(request, settings.API_MAX_BODY_BYTES)
        if isinstance(exception, TooManyFieldsSent):
            return json_error(
                request,
                400,
                f"Too many parameters: at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}.",
            )
        if isinstance(exception, SuspiciousOperation):
            return json_error(request, 400, "Bad request.")
        # Clients parse every API reply as JSON, so a fault is JSON even with DEBUG on
        # (where Django would otherwise answer with its HTML debug page).
        logger.error("Internal Server Error: %s", request.path, exc_info=exception)
        return json_error(request, 500, "Internal server error.")


def _as_json(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """An error some framework view answered in HTML (a 405 of the docs page, say) becomes
    the version's JSON error with the same status and protocol headers."""
    if response.status_code < 400 or response.get("Content-Type", "").startswith(
        "application/json"
    ):
        return response
    replacement = json_error(request, response.status_code, f"{response.reason_phrase}.")
    for header in ("Allow", "Retry-After", "WWW-Authenticate"):
        if response.has_header(header):
            replacement[header] = response[header]
    return replacement


def _page_refusal(request: HttpRequest) -> HttpResponse | None:
    """400 for what no page can use; the form body is parsed here, once, so its limits
    answer cleanly instead of surfacing inside the CSRF check as a logged traceback."""
    query = request.META.get("QUERY_STRING", "")
    if "\x00" in request.path or "%00" in query or not is_strict_utf8_urlencoded(query):
        return bad_request(request, "The address contains characters the portal does not accept.")
    if request.method != "POST":
        return None
    try:
        if request.content_type == FORM and not is_strict_utf8_urlencoded(request.body):
            return bad_request(request, "The form was not sent as valid UTF-8.")
        request.POST  # noqa: B018 - parse now, inside this try
    except RequestDataTooBig:
        return too_large(request, settings.API_MAX_BODY_BYTES)
    except TooManyFieldsSent:
        return bad_request(
            request,
            f"The form has too many fields (at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}).",
        )
    return None


def _declared_length(request: HttpRequest) -> int:
    """Content-Length as Django reads it (a malformed value counts as no body)."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0
