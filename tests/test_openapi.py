"""The OpenAPI schema describes every API endpoint; the docs page is local and CSP-clean."""

import re

import pytest
from django.contrib.staticfiles import finders
from django.urls import URLPattern, get_resolver

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(client) -> dict:
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def _api_routes() -> set[str]:
    """Every concrete route under /api/v1/ and /api/v2/, with {name} for path parameters."""
    routes = set()
    for prefix in ("api/v1/", "api/v2/"):
        for pattern in get_resolver().url_patterns:
            if str(pattern.pattern) != prefix:
                continue
            for route in pattern.url_patterns:
                assert isinstance(route, URLPattern)
                routes.add("/" + prefix + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(route.pattern)))
    return routes


def test_schema_has_every_api_route(schema):
    routes = _api_routes()
    assert len(routes) > 35
    assert set(schema["paths"]) == routes


def test_every_operation_has_auth_parameters_and_error_replies(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            where = f"{method.upper()} {path}"
            assert "200" in operation["responses"], where
            if path == "/api/v2/status":
                continue
            assert {"400", "401", "403", "413", "429"} <= set(operation["responses"]), where
            error = operation["responses"]["401"]["content"]["application/json"]["schema"]
            if path.startswith("/api/v1/"):
                assert operation["security"] == [{"v1TokenHeader": []}, {"v1TokenQuery": []}], where
                assert error["required"] == ["result", "message"], where
            else:
                assert operation["security"] == [{"v2Basic": []}, {"v2Bearer": []}], where
                assert error["required"] == ["message"], where


def test_every_operation_has_a_one_line_summary(schema):
    summaries = {
        f"{method.upper()} {path}": operation.get("summary", "")
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    }
    assert len(summaries) > 40
    assert [where for where, summary in summaries.items() if not summary.strip()] == []
    assert [where for where, summary in summaries.items() if "\n" in summary] == []
    # one line that tells two neighbouring operations apart, not the path again
    assert summaries["POST /api/v1/user/edit"] != summaries["POST /api/v1/user/edit/access_level"]
    assert len(set(summaries.values())) >= len(summaries) - 2  # "Remove a user." on v1 and v2


def test_v1_parameters_are_in_the_query_or_the_form_body(schema):
    add = schema["paths"]["/api/v1/user/add"]["post"]["requestBody"]["content"]
    form = add["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["email", "access_level"]
    assert form["properties"]["access_level"]["enum"] == ["admin", "user"]
    listing = schema["paths"]["/api/v1/users/list"]["get"]
    assert {p["name"]: p["in"] for p in listing["parameters"]} == {
        "limit": "query",
        "cursor": "query",
    }
    note_delete = schema["paths"]["/api/v1/user/note/delete"]["delete"]
    assert [p["name"] for p in note_delete["parameters"]] == ["email"]
    user = schema["paths"]["/api/v1/user/get"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    assert "managed_flocks" in user["properties"]["user"]["required"]


def test_v2_operations_describe_bodies_and_user_exists(schema):
    create = schema["paths"]["/api/v2/users/{user_name}"]["post"]
    body = create["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["password"] and body["additionalProperties"] is False
    refused = create["responses"]["403"]["content"]["application/json"]["schema"]["oneOf"]
    assert refused[0]["required"] == ["user_exists"]
    assert create["responses"]["200"]["content"]["application/json"]["schema"]["required"] == [
        "user_name",
        "password",
        "token",
    ]


def test_docs_page_uses_local_files_under_the_csp(client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    for url in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert url.startswith("/") and not url.startswith("//"), url  # nothing from a CDN
        if url.startswith("/static/"):
            assert finders.find(url.removeprefix("/static/")), url
    assert "<script>" not in html  # the start-up script is a file
    assert '<header class="docs-bar">' in html and "Back to the portal" in html
    script = client.get(
        re.search(r'<script src="([^"]*\?script[^"]*)"', html).group(1).replace("&amp;", "&")
    )
    assert script.status_code == 200 and b"SwaggerUIBundle" in script.content
    csp = response["Content-Security-Policy"]
    assert "'sha256-" in csp and "unsafe-inline" not in csp and "script-src 'self';" in csp + ";"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_swagger_ui_renders_without_csp_violations(live_server, schema, monkeypatch):
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "1")  # Playwright's loop runs in this thread
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            page = browser.new_page()
            console = []
            page.on("console", lambda message: console.append(message.text))
            page.goto(f"{live_server.url}/api/docs/")
            page.wait_for_selector(".opblock", timeout=20_000)
            operations = len(page.query_selector_all(".opblock"))
        finally:
            browser.close()
    assert operations == sum(len(methods) for methods in schema["paths"].values())
    assert [
        text for text in console if "Content Security Policy" in text or "Refused" in text
    ] == []
