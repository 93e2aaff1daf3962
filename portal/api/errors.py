"""The JSON error format of both API versions, for DRF views and for the plain Django
replies under /api/ (404, 500, 503, 413 …) alike.

v1 errors are ``{"result": "error", "message": …}``; v2 errors ``{"message": …}``.
"""

from __future__ import annotations

from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import set_rollback

from portal.lib.errors import PortalError


def is_v1(path: str) -> bool:
    return path == "/api/v1" or path.startswith("/api/v1/")


def error_body(path: str, message: str) -> dict:
    return {"result": "error", "message": message} if is_v1(path) else {"message": message}


def exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF exception handler: every API error in its version's JSON shape."""
    request = context["request"]
    headers = {}
    if isinstance(exc, PortalError):
        status, message = exc.status, exc.message
    elif isinstance(exc, Http404):
        status, message = 404, "Not found."
    elif isinstance(exc, exceptions.APIException):
        status, message = exc.status_code, _detail_text(exc.detail)
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = str(int(exc.wait))
    else:
        return None
    set_rollback()
    return Response(error_body(request.path, message), status=status, headers=headers)


def _detail_text(detail) -> str:
    if isinstance(detail, list):
        return " ".join(_detail_text(item) for item in detail)
    if isinstance(detail, dict):
        return " ".join(f"{key}: {_detail_text(value)}" for key, value in detail.items())
    return str(detail)


def json_error(request, status: int, message: str) -> JsonResponse:
    """A plain Django JSON error for paths no DRF view handles (404, 500 …)."""
    return JsonResponse(error_body(request.path, message), status=status)
