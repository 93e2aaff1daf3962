"""Error pages: JSON under /api/ (clients parse every reply), the portal's pages elsewhere,
and an error reporter that never shows a credential."""

from __future__ import annotations

import re
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template import loader
from django.views import csrf, defaults
from django.views.debug import SafeExceptionReporterFilter

from portal.api.errors import json_error

API_PREFIX = "/api/"
# What a client waits before trying again while the database is unreachable (a restart).
RETRY_AFTER_SECONDS = 5


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def database_unavailable(exception: BaseException | None) -> bool:
    """The database is unreachable or dropped the connection (a restart, a failover): the
    request can succeed when tried again, so it is a 503, not a fault of the portal."""
    return isinstance(exception, (OperationalError, InterfaceError))


def unavailable(request: HttpRequest) -> HttpResponse:
    """503 with Retry-After: the version's JSON under /api/, else the styled page, rendered
    without the request (its context would read the session and the user: the database)."""
    if is_api(request):
        response = json_error(request, 503, "Service temporarily unavailable. Try again shortly.")
    else:
        response = HttpResponse(loader.render_to_string("503.html"), status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: also what a middleware's fault ends in (a session read with the
    database down, say), so a database outage is a 503 there too."""
    if database_unavailable(sys.exc_info()[1]):
        return unavailable(request)
    if is_api(request):
        return json_error(request, 500, "Internal server error.")
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the APIs take no cookies, so this is a page's refusal; under /api/
    a stray cookie-bearing POST still gets its version's JSON shape."""
    if is_api(request):
        return json_error(request, 403, "CSRF verification failed.")
    return csrf.csrf_failure(request, reason)


def too_large(request: HttpRequest, limit: int) -> HttpResponse:
    if is_api(request):
        return json_error(request, 413, f"Request body too large: at most {limit} bytes.")
    return render(request, "413.html", {"limit_kib": limit // 1024}, status=413)


def bad_request(request: HttpRequest, message: str) -> HttpResponse:
    if is_api(request):
        return json_error(request, 400, message)
    return render(request, "400.html", {"message": message}, status=400)


class CredentialMaskingFilter(SafeExceptionReporterFilter):
    """Django masks names with KEY, SECRET, PASS, TOKEN …; connection URLs (DATABASE_URL,
    EMAIL_URL, REDIS_URL, SENTRY_DSN …) carry passwords too, in settings and the environment."""

    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|URL|DSN|AUTH", flags=re.I
    )
