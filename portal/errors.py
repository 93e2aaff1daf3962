"""Error pages: JSON under /api/ (clients parse every reply), the portal's pages elsewhere,
and an error reporter that never shows a credential."""

from __future__ import annotations

import re

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views import csrf, defaults
from django.views.debug import SafeExceptionReporterFilter

from users.api.common import json_error

API_PREFIX = "/api/"


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def server_error(request: HttpRequest) -> HttpResponse:
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

    hidden_settings = re.compile("API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|URL|DSN|AUTH", flags=re.I)
