"""Browser fixtures: Debian's headless Chromium driven by Playwright against pytest-django's live
server.

Reusable by any page test: ``page`` / ``open_page`` (fresh browser contexts on the live
server, failing the test on any CSP violation),
``shot`` (numbered full-page screenshots under test-artifacts/), ``login`` (the
real sign-in form, with a TOTP code when the user has an app) and
``virtual_authenticator`` (Chromium's DevTools WebAuthn authenticator).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connections
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import SIZES, fresh_totp_code
from playwright.sync_api import Browser, CDPSession, Page, sync_playwright

from users.models import User

# Playwright's sync API runs an event loop in this thread; Django's ORM calls from the
# test body are still synchronous and safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts"


def _saved_test_database_state() -> dict[str, object]:
    return {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }


def _restore_test_database_state(saved: dict[str, object]) -> None:
    """Playwright's sync API switches execution contexts, and Django keeps connections per context:
    the connection objects seen afterwards lack the test database's serialized contents, so later
    ``serialized_rollback`` tests would start without the migrations' rows. Give them back."""
    for alias, contents in saved.items():
        connections[alias]._test_serialized_contents = contents


@pytest.fixture(scope="module")
def browser(django_db_setup) -> Iterator[Browser]:
    """One Chromium per test module (closed after it, as only one sync Playwright may run at a
    time)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"No Chromium at {CHROMIUM}: install Debian's package (apt-get install chromium); "
            "bin/test does as root."
        )
    saved = _saved_test_database_state()
    with sync_playwright() as playwright:
        _restore_test_database_state(saved)
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()
    _restore_test_database_state(saved)


@pytest.fixture
def open_page(browser: Browser, live_server, settings) -> Iterator[Callable[..., Page]]:
    """``open_page(width=1280)``: a new browser context on the live server, one per person.

    WebAuthn trusts the live server's origin. Any Content-Security-Policy violation the
    browser reports fails the test: the pages must really satisfy the CSP.
    """
    settings.WEBAUTHN_ORIGIN = live_server.url
    settings.WEBAUTHN_RP_ID = "localhost"
    contexts, console = [], []

    def open_page(width: int = 1280) -> Page:
        context = browser.new_context(
            base_url=live_server.url, viewport={"width": width, "height": 860}
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.on("console", lambda message: console.append(message.text))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert [
        text for text in console if "Content Security Policy" in text or "Refused to" in text
    ] == []


@pytest.fixture
def page(open_page: Callable[..., Page]) -> Page:
    """One browser context on the live server (see ``open_page``)."""
    return open_page()


@pytest.fixture(params=SIZES)
def sized(request, page: Page) -> str:
    """The test runs twice, with ``page`` at desktop and at phone size (``helpers.SIZES``);
    the size's name."""
    width, height = SIZES[request.param]
    page.set_viewport_size({"width": width, "height": height})
    return request.param


@pytest.fixture
def shot(page: Page, request) -> Callable[[str], Path]:
    """``shot("login")`` saves test-artifacts/<test>/<nn>-login.png."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", request.node.name)
    folder.mkdir(parents=True, exist_ok=True)
    counter = iter(range(1, 100))

    def take(name: str) -> Path:
        path = folder / f"{next(counter):02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


def sign_in(
    page: Page,
    user: User,
    password: str,
    totp_device: TOTPDevice | None = None,
    next_url: str = "/",
) -> None:
    """Sign in through the real form; with ``totp_device`` the second step gets a fresh code."""
    page.goto(f"/login/?next={next_url}")
    page.fill("#id_login", user.username)
    page.fill("#id_password", password)
    page.click("form button[type=submit]")
    if totp_device is not None:
        page.wait_for_url("**/login/verify/")
        page.fill("#id_code", fresh_totp_code(totp_device))
        page.click("text=Verify")
    page.wait_for_load_state()


@pytest.fixture
def login() -> Callable[..., None]:
    """``login(page, user, password, totp_device=None, next_url="/")``: the real sign-in form."""
    return sign_in


def add_virtual_authenticator(page: Page) -> tuple[CDPSession, str]:
    """A CTAP2 platform authenticator with resident keys and user verification on ``page``
    (its DevTools session and id), added before any navigator.credentials call (without one
    Chromium waits forever)."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    result = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, result["authenticatorId"]


@pytest.fixture
def virtual_authenticator(page: Page) -> str:
    """``add_virtual_authenticator`` on the test's page; its id."""
    return add_virtual_authenticator(page)[1]
