"""A database that cannot be reached (a restart) answers 503 with Retry-After, not 500: JSON
in the version's shape under /api/, the styled page elsewhere (gunicorn on a dead database)."""

from __future__ import annotations

import pytest
import requests
from servers import CONFIGURED_CACHE, free_port, gunicorn

DEAD_DATABASES = {
    "postgresql": lambda tmp_path: (
        f"postgres://portal@127.0.0.1:{free_port()}/portal"
    ),  # nothing listens
    "sqlite": lambda tmp_path: (
        f"sqlite:///{tmp_path}/no-such-folder/portal.sqlite3"
    ),  # cannot be opened
}


@pytest.mark.parametrize("engine", DEAD_DATABASES)
def test_an_unreachable_database_answers_503_with_retry_after(engine, tmp_path):
    with gunicorn(workers=1, threads=2, DATABASE_URL=DEAD_DATABASES[engine](tmp_path)) as base:
        v1 = requests.get(f"{base}/api/v1/ping", params={"auth_token": "x" * 40}, timeout=30)
        v2 = requests.get(
            f"{base}/api/v2/users", headers={"Authorization": "Bearer " + "x" * 40}, timeout=30
        )
        page = requests.get(
            f"{base}/users/", cookies={"sessionid": "a" * 32}, timeout=30, allow_redirects=False
        )
        sign_in = requests.get(f"{base}/login/", timeout=30)
        healthz = requests.get(f"{base}/healthz", timeout=30)
        readyz = requests.get(f"{base}/readyz", timeout=30)
    assert (v1.status_code, v1.json()) == (
        503,
        {"result": "error", "message": "Service temporarily unavailable. Try again shortly."},
    )
    assert (v2.status_code, v2.json()) == (
        503,
        {"message": "Service temporarily unavailable. Try again shortly."},
    )
    assert page.status_code == 503 and "The portal is briefly unavailable" in page.text
    assert page.headers["Content-Type"].startswith("text/html")
    for response in (v1, v2, page):
        assert response.headers["Retry-After"] == "5"
        assert response.headers["Cache-Control"] == "no-store"
    assert sign_in.status_code == 200  # the sign-in form itself needs no database
    assert (healthz.status_code, healthz.json()) == (200, {"status": "ok"})
    assert (readyz.status_code, readyz.json()) == (
        503,
        {
            "status": "unavailable",
            "database": "unreachable",
            "cache": CONFIGURED_CACHE,
            "mail": None,
        },
    )
