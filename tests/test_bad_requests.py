"""A corpus of bad requests against a live server: each gets its documented 4xx in a
reply that conforms to the OpenAPI schema, and together they change nothing (the
full database dump is the same before and after). Removing a user keeps their history.
"""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from io import StringIO

import pytest
import requests
import schemathesis
from django.apps import apps
from django.core.management import call_command
from helpers import PASSWORD
from servers import LIVE_DB, restore_migration_rows

from users import services
from users.models import AccessLevel, User

HUGE = 2 * 1024 * 1024  # over the 1 MiB API limit
DEEP = b"[" * 100_000 + b"]" * 100_000  # past Python's recursion limit, under the size limit
FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
V2_USER = "/api/v2/users/{user_name}"


@dataclass(frozen=True)
class Bad:
    """One bad request: ``operation`` is its (path template, method) in the schema."""

    name: str
    operation: tuple[str, str]
    status: int
    path: str = ""
    body: bytes = b""
    content_type: str = FORM
    auth: str = "token"  # token | basic | bearer | none | a literal Authorization header
    headers: dict = field(default_factory=dict)
    send_method: str = ""  # when it differs from the operation's (405)


def _v1(
    name: str, endpoint: str, status: int, query: str = "", method: str = "POST", **kwargs
) -> Bad:
    path = f"/api/v1/{endpoint}" + (f"?{query}" if query else "")
    return Bad(name, (f"/api/v1/{endpoint}", method), status, path=path, **kwargs)


def _v2(
    name: str, path: str, status: int, method: str = "POST", template: str = V2_USER, **kwargs
) -> Bad:
    kwargs.setdefault("content_type", JSON)
    kwargs.setdefault("auth", "basic")
    return Bad(name, (template, method), status, path=f"/api/v2/{path}", **kwargs)


def _basic(name: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()


CORPUS = [
    # bodies that are not what they claim, or too big
    _v1("v1 form of invalid UTF-8", "user/add", 400, body=b"\xff\xfe\x00garbage=\xff"),
    _v1("v1 broken JSON", "user/add", 400, body=b'{"email": ', content_type=JSON),
    _v1("v1 JSON array", "user/add", 400, body=b"[1, 2]", content_type=JSON),
    _v1(
        "v1 JSON lone surrogate",
        "user/add",
        400,
        body=b'{"email":"n@example.com","access_level":"user","note":"\\ud800"}',
        content_type=JSON,
    ),
    _v1(
        "v1 XML body",
        "user/add",
        415,
        body=b"<user email='x@example.com'/>",
        content_type="text/xml",
    ),
    _v1("v1 JSON nested 100,000 deep", "user/add", 400, body=DEEP, content_type=JSON),
    _v1(
        "v1 JSON nested 100,000 deep, no token",
        "ping",
        401,
        method="GET",
        body=DEEP,
        content_type=JSON,
        auth="none",
    ),
    _v1(
        "v1 note of invalid UTF-8",
        "user/note/add",
        400,
        body=b"email=dup%40example.com&note=%ED%A0%80",
    ),
    _v1("v1 query of invalid UTF-8", "users/filter", 400, query="filter_str=%ff%fe", method="GET"),
    _v1("v1 huge integer", "users/list", 400, query="limit=" + "9" * 40, method="GET"),
    _v1(
        "v1 huge body",
        "user/add",
        413,
        body=b"email=huge%40example.com&access_level=user&note=" + b"x" * HUGE,
    ),
    # unicode and control characters in e-mails, notes and names
    _v1("v1 e-mail with BEL", "user/add", 400, body=b"email=ann\x07@example.com&access_level=user"),
    _v1(
        "v1 e-mail with accents",
        "user/add",
        400,
        body="email=zoë@example.com&access_level=user".encode(),
    ),
    _v1(
        "v1 e-mail with RTL override",
        "user/add",
        400,
        body="email=\u202eann@example.com&access_level=user".encode(),
    ),
    _v1("v1 e-mail with NUL", "user/get", 400, query="email=dup%00@example.com", method="GET"),
    _v1("v1 note with NUL", "user/note/add", 400, body=b"email=dup%40example.com&note=a%00b"),
    _v1(
        "v1 note for nobody",
        "user/note/add",
        404,
        body="email=nobody@example.com&note=\x1b[31m🔥\u202e".encode(),
    ),
    _v1("v1 flock name too long", "flock/create", 400, body=b"name=" + b"n" * 101),
    _v1("v1 flock name of spaces", "flock/create", 400, body=b"name=%20%20"),
    _v1("v1 filter with NUL", "users/filter", 400, query="filter_str=a%00", method="GET"),
    # duplicated parameters: the last one counts, in the query string and the body
    _v1(
        "v1 duplicated e-mail, last is taken",
        "user/add",
        409,
        body=b"email=new%40example.com&email=dup%40example.com&access_level=user",
    ),
    _v1(
        "v1 duplicated limit, last is bad",
        "users/list",
        400,
        query="limit=5&limit=abc",
        method="GET",
    ),
    _v1(
        "v1 duplicated role",
        "user/flock/assign",
        400,
        body=b"email=dup%40example.com&flock_id_list=flock%3Adefault&flock_access_level=watcher&flock_access_level=owner",
    ),
    # other refusals
    _v1("v1 page size 0", "users/list", 400, query="limit=0", method="GET"),
    _v1("v1 forged cursor", "users/list", 400, query="cursor=eyJkIjoibmV4dCJ9", method="GET"),
    _v1(
        "v1 impossible date", "audit_trail/fetch", 400, query="start_date=2026-13-45", method="GET"
    ),
    _v1(
        "v1 unknown flock",
        "user/flock/assign",
        404,
        body=b"email=dup%40example.com&flock_id_list=flock%3Anope&flock_access_level=watcher",
    ),
    _v1("v1 default flock delete", "flock/delete", 409, body=b"flock_id=flock%3Adefault"),
    _v1("v1 last admin disabled", "user/disable", 409, body=b"email=admin%40example.com"),
    _v1("v1 missing e-mail on DELETE", "user/note/delete", 400, method="DELETE"),
    _v1(
        "v1 wrong token",
        "user/add",
        401,
        body=b"email=t%40example.com&access_level=user&auth_token=wrong",
        auth="none",
    ),
    _v1(
        "v1 non-admin's token",
        "user/add",
        403,
        body=b"email=t%40example.com&access_level=user",
        auth="user-token",
    ),
    _v1("v1 wrong method", "user/add", 405, send_method="GET"),
    # v2
    _v2("v2 not JSON", "users/newbie", 400, body=b"password=hunter2", content_type=JSON),
    _v2("v2 JSON nested 100,000 deep", "users/newbie", 400, body=DEEP),
    _v2("v2 number for password", "users/newbie", 400, body=b'{"password": 123}'),
    _v2("v2 lone surrogate", "users/newbie", 400, body=b'{"password": "\\ud800\\udc00\\ud800"}'),
    _v2(
        "v2 unknown field",
        "users/newbie",
        400,
        body=b'{"password": "long enough pass 1", "admin": true}',
    ),
    _v2(
        "v2 text/plain body",
        "users/newbie",
        415,
        body=b'{"password": "long enough pass 1"}',
        content_type="text/plain",
    ),
    _v2("v2 huge body", "users/newbie", 413, body=b'{"password": "' + b"p" * HUGE + b'"}'),
    _v2("v2 name with BEL", "users/ann%07bob", 400, body=b'{"password": "long enough pass 1"}'),
    _v2(
        "v2 name with RTL override",
        "users/%E2%80%AEevil",
        400,
        body=b'{"password": "long enough pass 1"}',
    ),
    _v2("v2 name with NUL", "users/ann%00", 400, method="GET"),
    _v2("v2 taken name", "users/taken", 403, body=b'{"password": "long enough pass 1"}'),
    _v2(
        "v2 unknown name, duplicated query",
        "users/nobody?user_name=a&user_name=b",
        403,
        method="GET",
    ),
    _v2("v2 last admin removed", "users/admin", 409, method="DELETE", auth="bearer"),
    _v2(
        "v2 refresh with a body",
        "users/taken/refresh",
        400,
        body=b'{"token": "mine"}',
        template=V2_USER + "/refresh",
    ),
    _v2(
        "v2 update with nothing",
        "users/taken/update",
        400,
        method="PUT",
        body=b"{}",
        template=V2_USER + "/update",
    ),
    _v2(
        "v2 NUL in Basic name",
        "users",
        401,
        method="GET",
        template="/api/v2/users",
        auth=_basic("ad\x00min", "x"),
    ),
    _v2(
        "v2 wrong password",
        "users",
        401,
        method="GET",
        template="/api/v2/users",
        auth=_basic("admin", "wrong"),
    ),
    _v2("v2 no credentials", "users", 401, method="GET", template="/api/v2/users", auth="none"),
]


def database_dump() -> list[dict]:
    """Every row of every model, except what a refused request may legitimately touch:
    failed-authentication audit entries and counters, sessions, token last-use times."""
    exclude = ["contenttypes", "auth.permission", "users.usersession"] + (
        ["axes"] if apps.is_installed("axes") else []
    )
    out = StringIO()
    call_command("dumpdata", exclude=exclude, stdout=out)
    rows = json.loads(out.getvalue())
    for row in rows:
        row["fields"].pop("api_token_last_used", None)
    return [
        row
        for row in rows
        if not (
            row["model"] == "users.auditentry"
            and row["fields"]["action_type"].startswith("api_auth_")
        )
    ]


@pytest.fixture
def live_setup(live_server, settings, admin, admin_token, system, make_user):
    settings.AUTH_ADDRESS_FAILURE_LIMIT = settings.AUTH_ACCOUNT_FAILURE_LIMIT = 10**9
    restore_migration_rows()
    make_user("dup@example.com", note="keep me")
    services.create_named_user(system, username="taken", password="long enough pass 1")
    plain = make_user("plain@example.com")
    user_token = services.issue_api_token(system, plain)
    schema = requests.get(f"{live_server.url}/api/schema/?format=json", timeout=30).json()
    return live_server.url, {"token": admin_token, "user-token": user_token}, schema


def _send(base: str, tokens: dict, bad: Bad) -> requests.Response:
    headers = {"Content-Type": bad.content_type, **bad.headers}
    if bad.auth in ("token", "user-token"):
        headers["X-Canary-Auth-Token"] = tokens[bad.auth]
    elif bad.auth == "basic":
        headers["Authorization"] = _basic("admin", PASSWORD)
    elif bad.auth == "bearer":
        headers["Authorization"] = f"Bearer {tokens['token']}"
    elif bad.auth != "none":
        headers["Authorization"] = bad.auth
    method = bad.send_method or bad.operation[1]
    return requests.request(
        method, base + bad.path, data=bad.body or None, headers=headers, timeout=30
    )


@LIVE_DB
def test_bad_requests_get_documented_errors_and_change_nothing(live_setup, caplog):
    base, tokens, raw_schema = live_setup
    caplog.set_level(logging.WARNING)
    schema = schemathesis.openapi.from_dict(raw_schema)
    requests.get(
        f"{base}/api/v1/ping", headers={"X-Canary-Auth-Token": tokens["token"]}, timeout=30
    )
    before = database_dump()
    for bad in CORPUS:
        response = _send(base, tokens, bad)
        template, method = bad.operation
        assert response.status_code == bad.status, (
            bad.name,
            response.status_code,
            response.text[:300],
        )
        documented = raw_schema["paths"][template][method.lower()]["responses"]
        assert str(response.status_code) in documented, bad.name
        schema[template][method].validate_response(response)
        body = response.json()
        if template.startswith("/api/v1/"):
            assert body["result"] == "error" and body["message"], bad.name
        else:
            assert body.get("message") or "user_exists" in body, bad.name
    assert database_dump() == before
    faults = [
        record for record in caplog.records if record.exc_info or record.levelno >= logging.ERROR
    ]
    assert [record.getMessage() for record in faults] == []
    good = _v1("a good request", "user/note/add", 200, body=b"email=dup%40example.com&note=changed")
    assert _send(base, tokens, good).status_code == 200
    assert database_dump() != before  # the dump does see changes


def test_corpus_covers_what_the_fuzzer_cannot_send():
    """Guard against the corpus being trimmed of its reason to exist."""
    statuses = {bad.status for bad in CORPUS}
    assert {400, 401, 403, 404, 405, 409, 413, 415} <= statuses
    names = " ".join(bad.name for bad in CORPUS)
    for topic in (
        "JSON",
        "huge",
        "NUL",
        "RTL",
        "accents",
        "duplicated",
        "surrogate",
        "nested",
        "UTF-8",
    ):
        assert topic in names


@pytest.mark.django_db
def test_removed_user_keeps_a_readable_history(v1, client, system, make_user):
    """Their own actions and the actions on them still name them after removal."""
    second = make_user("second@example.com", access_level=AccessLevel.ADMIN)
    second_token = services.issue_api_token(system, second)
    response = client.post(
        f"/api/v1/user/add?auth_token={second_token}",
        {
            "email": "made-by-second@example.com",
            "access_level": "user",
            "send_welcome_mail": "false",
        },
    )
    assert response.status_code == 200
    assert v1.post("user/remove", email="second@example.com").status_code == 200
    assert not User.objects.filter(email="second@example.com").exists()
    trail = v1.get("audit_trail/fetch", search_term="second@example.com").json()["audit_trail"]
    summary = {(entry["action_type"], entry["user"], entry["target"]) for entry in trail}
    assert ("user_add", "second@example.com", "made-by-second@example.com") in summary  # they acted
    assert (
        "user_remove",
        "admin@example.com",
        "second@example.com",
    ) in summary  # they were acted on
    assert ("user_add", "tests", "second@example.com") in summary
