"""Bad requests to the pages: each gets a clean 4xx page, none a 5xx or a logged traceback,
and together they change nothing (the full dump is the same), on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
import time
from pathlib import Path

import pytest
import requests
from django.db import connection
from django.test import Client
from django.urls import reverse
from helpers import signed_in
from servers import ARTIFACTS, LIVE_DB, gunicorn, runserver
from test_bad_requests import database_dump

from flocks.models import DEFAULT_FLOCK_ID
from portal.errors import CredentialMaskingFilter, csrf_failure
from portal.logs import redact

FORM = "application/x-www-form-urlencoded"
HUGE_ID = "9" * 25  # past 2**63: SQLite's driver overflows on it


def page_corpus(user_pk: int) -> list[tuple[str, str, str, bytes, int]]:
    """(name, method, path, form body, expected status)."""
    note = f"/users/{user_pk}/note/"
    return [
        ("huge user id", "GET", f"/users/{HUGE_ID}/", b"", 404),
        ("huge user id on an action", "POST", f"/users/{HUGE_ID}/active/", b"active=0", 404),
        (
            "huge member id",
            "POST",
            f"/flocks/{DEFAULT_FLOCK_ID}/members/{HUGE_ID}/remove/",
            b"",
            404,
        ),
        ("huge key id", "POST", f"/account/security/keys/{HUGE_ID}/remove/", b"", 404),
        ("hex user id", "GET", "/users/0x10/", b"", 404),
        ("NUL in a flock id", "GET", "/flocks/flock:a%00b/", b"", 400),
        ("NUL in a flock id action", "POST", "/flocks/flock:a%00b/rename/", b"name=x", 400),
        ("malformed flock id", "GET", "/flocks/flock:nope/", b"", 404),
        ("NUL in the flock search", "GET", "/flocks/?q=a%00b", b"", 400),
        ("NUL in the user search", "GET", "/users/?q=a%00b", b"", 400),
        ("NUL in the audit search", "GET", "/audit/?q=%00", b"", 400),
        ("invalid UTF-8 in a search", "GET", "/users/?q=%ff%fe", b"", 400),
        ("NUL in a path", "GET", "/users/%00/", b"", 400),
        ("invalid UTF-8 in a note", "POST", note, b"note=%ED%A0%80", 400),
        ("raw invalid UTF-8 in a note", "POST", note, b"note=\xff\xfe", 400),
        ("too many fields", "POST", note, b"&".join(b"f%d=1" % i for i in range(2000)), 400),
        ("huge body", "POST", note, b"note=" + b"x" * (1024 * 1024 + 10), 413),
    ]


@pytest.mark.django_db
def test_bad_page_requests_get_clean_errors_and_change_nothing(admin, make_user, caplog):
    target = make_user("target@example.com", note="keep me")
    client = signed_in(admin, checked_now=True)
    before = database_dump()
    caplog.set_level(logging.WARNING)
    for name, method, path, body, status in page_corpus(target.pk):
        response = client.generic(method, path, body, content_type=FORM)
        assert response.status_code == status, (name, response.status_code)
        assert "text/html" in response["Content-Type"], name
        assert b"Traceback" not in response.content, name
    assert database_dump() == before
    assert [
        record for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR
    ] == []
    target.refresh_from_db()
    assert target.note == "keep me"


@pytest.mark.django_db
def test_oversized_sign_in_form_gets_the_413_page(db):
    """Anonymous, CSRF checked: the limit answers before the CSRF check reads the body."""
    client = Client(enforce_csrf_checks=True)
    client.get(reverse("login"))
    token = client.cookies["csrftoken"].value
    body = f"csrfmiddlewaretoken={token}&login=x&password=".encode() + b"A" * (1100 * 1024)
    response = client.generic("POST", reverse("login"), body, content_type=FORM)
    assert response.status_code == 413
    assert b"too much to send" in response.content


@pytest.mark.django_db
def test_api_unknown_paths_answer_json_for_every_method(client):
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        v1 = client.generic(method, "/api/v1/no/such/thing", b"a=b", content_type=FORM)
        assert (v1.status_code, v1.json()) == (404, {"result": "error", "message": "Not found."}), (
            method
        )
        v2 = client.generic(method, "/api/v2/nothing/here", b"{}", content_type="application/json")
        assert (v2.status_code, v2.json()) == (404, {"message": "Not found."}), method


@pytest.mark.django_db
def test_framework_errors_under_api_are_json(client):
    """The docs page answers a POST with a 405 of its own: it still reaches clients as JSON."""
    response = Client(enforce_csrf_checks=True).post("/api/docs/", {"a": "b"})
    assert (response.status_code, response.json()) == (405, {"message": "Method Not Allowed."})
    assert response["Allow"]


def test_csrf_failure_under_api_is_json(rf):
    """Every API view takes no cookies (CSRF-exempt); should one ever trip the check, the
    refusal is still JSON in the version's shape, and pages keep Django's page."""
    v1 = csrf_failure(rf.post("/api/v1/user/add"), "CSRF cookie not set.")
    assert v1.status_code == 403
    assert json.loads(v1.content) == {"result": "error", "message": "CSRF verification failed."}
    assert csrf_failure(rf.post("/login/"), "CSRF cookie not set.")["Content-Type"].startswith(
        "text/html"
    )


@pytest.mark.django_db
def test_api_replies_are_never_cached(v1, admin_token):
    response = v1.get("ping")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"


@LIVE_DB
def test_trial_server_shows_strangers_no_debug_page_and_no_environment():
    """As `bin/serve` runs (runserver, no DJANGO_DEBUG): an anonymous oversized sign-in and an
    unknown page get the portal's pages, with nothing of the server's environment in them."""
    secret = "S3cr3t-smtp-pw"
    env = {"EMAIL_URL": f"smtp://mailer:{secret}@127.0.0.1:2525", "DJANGO_DEBUG": ""}
    with runserver(**env) as base:
        session = requests.Session()
        session.get(f"{base}/login/", timeout=30)
        token = session.cookies["csrftoken"]
        body = f"csrfmiddlewaretoken={token}&login=x&password=".encode() + b"A" * (1100 * 1024)
        big = session.post(f"{base}/login/", data=body, headers={"Content-Type": FORM}, timeout=30)
        missing = session.get(f"{base}/no-such-page", timeout=30)
    assert big.status_code == 413 and missing.status_code == 404
    for response in (big, missing):
        assert secret not in response.text and "EMAIL_URL" not in response.text
        assert "Traceback" not in response.text and "URLconf" not in response.text


@LIVE_DB
def test_tokens_never_reach_the_access_logs(admin_token):
    """The contract lets v1 clients put the token in the query string; neither gunicorn's
    access log nor runserver's request lines may keep it."""
    for serve, name in ((gunicorn, "gunicorn"), (runserver, "runserver")):
        log = ARTIFACTS / f"{name}-{connection.vendor}.log"
        start = log.stat().st_size if log.exists() else 0
        extra = (
            {"GUNICORN_CMD_ARGS": "--access-logfile - -c python:portal.gunicorn"}
            if name == "gunicorn"
            else {}
        )
        with serve(**extra) as base:
            response = requests.get(f"{base}/api/v1/ping?auth_token={admin_token}&x=1", timeout=30)
            assert response.status_code == 200
            written = _logged_after(log, start, "/api/v1/ping")
        assert "/api/v1/ping?auth_token=***&x=1" in written, (name, written[-2000:])
        assert admin_token not in written, name


def _logged_after(log: Path, start: int, needle: str) -> str:
    """What the server wrote to ``log`` since ``start``, once ``needle`` is in it (servers
    write the request line after the reply is sent)."""
    deadline = time.monotonic() + 10
    while True:
        written = log.read_bytes()[start:].decode()
        if needle in written or time.monotonic() > deadline:
            return written
        time.sleep(0.05)


@pytest.mark.parametrize("name", ["auth_token", "AUTH_TOKEN", "auth%5Ftoken", "auth%5ftoken"])
def test_redaction_covers_every_spelling_of_the_parameter(name):
    line = f"GET /api/v1/ping?x=1&{name}=s3cret-value&y=2 HTTP/1.1"
    assert redact(line) == f"GET /api/v1/ping?x=1&{name}=***&y=2 HTTP/1.1"


def test_error_reports_mask_connection_urls(rf, settings):
    """Should DEBUG be turned on, Django's report hides every value that can carry a credential."""
    request = rf.get("/", HTTP_AUTHORIZATION="Basic YWRtaW46cHc=")
    request.META.update(
        {"EMAIL_URL": "smtp://u:pw@h", "DATABASE_URL": "postgres://u:pw@h/db", "SENTRY_DSN": "x"}
    )
    meta = CredentialMaskingFilter().get_safe_request_meta(request)
    for name in ("EMAIL_URL", "DATABASE_URL", "SENTRY_DSN", "HTTP_AUTHORIZATION"):
        assert meta[name] == CredentialMaskingFilter.cleansed_substitute, name
    assert settings.DEFAULT_EXCEPTION_REPORTER_FILTER == "portal.errors.CredentialMaskingFilter"
