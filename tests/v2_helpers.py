"""Sending v2 requests the way the Nebula SDK does: JSON content type always, Basic or Bearer."""

from __future__ import annotations

import base64
import json

from django.test import Client

NO_BODY = object()


def basic(name: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()


def bearer(token: str) -> str:
    return f"Bearer {token}"


def call(
    client: Client, method: str, path: str, body=NO_BODY, *, auth: str | None, remote_addr: str = "127.0.0.1", **headers
):
    """``body``: a dict/list (sent as JSON), bytes (sent as they are) or NO_BODY."""
    if body is NO_BODY:
        data = b""
    elif isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body).encode()
    all_headers = {"cache-control": "no-cache", **headers}
    if auth is not None:
        all_headers["authorization"] = auth
    content_type = all_headers.pop("content_type", "application/json")
    # The test client leaves Content-Type out when there is no body; the SDK always sends it.
    return client.generic(
        method,
        f"/api/v2/{path}",
        data,
        content_type=content_type,
        headers=all_headers,
        REMOTE_ADDR=remote_addr,
        CONTENT_TYPE=content_type,
    )
