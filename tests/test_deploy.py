"""Production mode: `check --deploy` is clean, secrets are required, headers are strict."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

BASE_DIR = Path(__file__).resolve().parent.parent


def _manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh interpreter, so settings are read from this environment."""
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_"))
    } | env
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "PORTAL_PRODUCTION": "1",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "portal.example.com",
    "DJANGO_CSRF_TRUSTED_ORIGINS": "https://portal.example.com",
}


def test_check_deploy_reports_no_warnings_in_production():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr


def test_production_without_secret_key_fails_loudly():
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = _manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when PORTAL_PRODUCTION=1" in result.stderr


def test_development_check_deploy_does_warn():
    """The deploy check above can fail: development defaults are not production-safe."""
    result = _manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_DEBUG="1")
    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG on


def test_debug_is_off_unless_asked_for_by_name():
    """A trial install (no settings at all) runs without Django's debug pages."""
    result = _manage(
        "shell",
        "-v",
        "0",
        "-c",
        "from django.conf import settings; print(settings.DEBUG, settings.PRODUCTION)",
    )
    assert result.stdout.split() == ["False", "False"], result.stderr


@pytest.mark.django_db
def test_pages_carry_strict_security_headers(client):
    response = client.get("/login/")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_templates_have_no_inline_script_or_style():
    """The CSP forbids inline code; a template with any would break in the browser."""
    offenders = []
    for template in (BASE_DIR / "templates").rglob("*.html"):
        text = template.read_text()
        for needle in (
            "<script>",
            "<script ",
            "<style",
            " style=",
            " onclick=",
            " onload=",
            " onsubmit=",
            "javascript:",
        ):
            if needle in text and not (needle == "<script " and _only_external_scripts(text)):
                offenders.append(f"{template.relative_to(BASE_DIR)}: {needle.strip()}")
    assert offenders == []


def _only_external_scripts(text: str) -> bool:
    """True when every <script …> tag loads a file (src=) or holds JSON data."""
    tags = [chunk.split(">", 1)[0] for chunk in text.split("<script ")[1:]]
    return all("src=" in tag or 'type="application/json"' in tag for tag in tags)
