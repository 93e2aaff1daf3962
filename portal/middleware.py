"""Request guards for the API that must run before any view reads the body."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse

from users.api.common import json_error

API_PREFIX = "/api/"
logger = logging.getLogger("django.request")


class ApiBodyLimitMiddleware:
    """Refuse API bodies over ``settings.API_MAX_BODY_BYTES`` with 413 JSON, and answer
    any other fault under /api/ with a JSON 500.

    The declared Content-Length is checked before anything reads the body, so a
    huge upload costs nothing; Django's own limits (DATA_UPLOAD_MAX_MEMORY_SIZE,
    DATA_UPLOAD_MAX_NUMBER_FIELDS), raised while a view parses, become JSON 413 /
    400 instead of Django's HTML error page.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(API_PREFIX) and _declared_length(request) > settings.API_MAX_BODY_BYTES:
            return _too_large(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(API_PREFIX):
            return None
        if isinstance(exception, RequestDataTooBig):
            return _too_large(request)
        if isinstance(exception, TooManyFieldsSent):
            return json_error(request, 400, f"Too many parameters: at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}.")
        if isinstance(exception, SuspiciousOperation):
            return json_error(request, 400, "Bad request.")
        # Clients parse every API reply as JSON, so a fault is JSON even with DEBUG on
        # (where Django would otherwise answer with its HTML debug page).
        logger.error("Internal Server Error: %s", request.path, exc_info=exception)
        return json_error(request, 500, "Internal server error.")


def _declared_length(request: HttpRequest) -> int:
    """Content-Length as Django reads it (a malformed value counts as no body)."""
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _too_large(request: HttpRequest) -> HttpResponse:
    return json_error(request, 413, f"Request body too large: at most {settings.API_MAX_BODY_BYTES} bytes.")
