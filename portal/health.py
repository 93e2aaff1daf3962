"""Health endpoints for load balancers and orchestrators, answered by the first middleware.

- ``GET /healthz``: the process is up (no I/O at all).
- ``GET /readyz``: the database answers (503 if not), the cache is reachable or degraded
  (Redis down is not "not ready": the portal works without it), and how far behind the
  mail worker is (queued mails, the oldest one's age).

They run before SecurityMiddleware and never ask for the host, so a probe over plain http
with any ``Host`` header gets its answer (no SSL redirect, no host validation), without
authentication, cookies or sessions. The replies hold counts and states, never a setting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from users.mail import queue_age

logger = logging.getLogger("portal.health")
PROBE_METHODS = ("GET", "HEAD")


def healthz() -> JsonResponse:
    return JsonResponse({"status": "ok"})


def readyz() -> JsonResponse:
    database = _database()
    body = {
        "status": "ok" if database == "ok" else "unavailable",
        "database": database,
        "cache": _cache(),
        "mail": _mail_queue() if database == "ok" else None,
    }
    return JsonResponse(body, status=200 if database == "ok" else 503)


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        logger.warning("Readiness: database unreachable (%s)", exc)
        return "unreachable"
    return "ok"


def _cache() -> str:
    """ "ok", "degraded" (Redis unreachable: serving from process memory) or "local" (no Redis)."""
    breaker = getattr(cache, "breaker", None)
    if breaker is None:
        return "local"
    cache.get("readyz")  # one bounded round trip (or none while the breaker is open)
    return "degraded" if breaker.degraded else "ok"


def _mail_queue() -> dict | None:
    try:
        return queue_age()
    except DatabaseError:
        return None


PROBES: dict[str, Callable[[], JsonResponse]] = {"/healthz": healthz, "/readyz": readyz}


class HealthCheckMiddleware:
    """Answer the probes before any other middleware sees the request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        probe = PROBES.get(request.path_info)
        if probe is None or request.method not in PROBE_METHODS:
            return self.get_response(request)
        response = probe()
        response["Cache-Control"] = "no-store"
        return response
