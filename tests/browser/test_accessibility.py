"""axe-core on every page built from the portal's own templates, in the light and the dark theme:
no serious or critical violation (WCAG AA contrast included). Issue 15, point 7.

The pages come from the URL map: every route outside /api/ (the API and Swagger UI) and
/django-admin/ is opened as a signed-in admin. A route that answers 405 to a GET is an action,
not a page; any other route that is not an HTML page on a plain GET must be in NOT_PAGES with
the reason, or have a recipe in ``special_pages`` — so a page added later is checked, or the
test fails until someone says why not.

axe-core comes from npm (tests/a11y/package.json, installed with ``npm ci`` into the
git-ignored tests/a11y/node_modules on first use) and is injected into browser contexts that
bypass the CSP (the suite's other browser tests fail on any CSP violation; axe's injected
script would be one). Heavy: the PostgreSQL leg only.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import PASSWORD
from playwright.sync_api import Browser, BrowserContext, Page

from flocks.api_keys import add_key
from flocks.models import Flock, FlockMembership
from users import mail, services
from users.audit import Actor
from users.models import AccessLevel, User, WebAuthnCredential
from users.twofactor import recovery

from .conftest import sign_in

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="heavy (axe on every page): PostgreSQL leg"
    ),
]

AXE_DIR = Path(__file__).resolve().parent.parent / "a11y"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
THEMES = ("light", "dark")
BLOCKING = {"serious", "critical"}
OUTSIDE = ("api/", "^api/", "django-admin/")  # Swagger UI and the Django admin: not ours

# Routes a plain GET does not show as a page, and why (405s need no entry).
NOT_PAGES = {
    "favicon.ico": "a redirect to the icon",
    "audit_download": "CSV or JSON, not HTML",
    "flock_search": "JSON for the flock pickers, not HTML",
    "flock_people": "JSON for the member picker, not HTML",
    "recovery_codes": "shown once after new codes are made: special_pages makes some",
    "login": "redirects a signed-in visitor: special_pages opens it signed out",
    "login_verify": "needs a half-done sign-in: special_pages makes one",
    "password_reset_confirm": "redirects to its form: special_pages follows a real link",
    "password_reset_complete": "special_pages opens it signed out",
    "password_forgot": "redirects a signed-in visitor: special_pages opens it signed out",
    "logout": "signs the admin out (405 on GET): never opened here",
}


def routes(patterns=None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    """Every concrete route of the URL map with its pattern."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from routes(pattern.url_patterns, route)
        else:
            yield route, pattern


def route_name(route: str, pattern: URLPattern) -> str:
    return pattern.name or route


@pytest.fixture(scope="module")
def axe_source() -> str:
    """axe.min.js, installed with npm from the locked version on first use."""
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.fail(
                f"axe-core is not installed ({AXE_JS}) and npm is missing: install Node.js and npm "
                "(apt-get install npm; bin/test does as root) or run `npm ci` in tests/a11y"
            )
        subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--prefix", str(AXE_DIR)],
            check=True,
            timeout=600,
        )
    return AXE_JS.read_text()


@pytest.fixture
def people(db, settings) -> dict:
    """An admin with an app, a key and recovery codes; ann, a user with every kind of data a
    page shows (factors, flock, note); a flock with API keys; a plain watcher."""
    settings.TWOFACTOR_REAUTH_SECONDS = 3600  # the confirm pages stay pages for the whole run
    system = Actor.system("tests")
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    key = WebAuthnCredential.objects.create(
        user=admin, name="YubiKey", credential_id="admin-key", public_key=b"x"
    )
    recovery.generate(system, admin)
    services.issue_api_token(system, admin)
    ann = services.add_user(
        system, email="ann@example.com", access_level=AccessLevel.USER, note="Night shift"
    )
    TOTPDevice.objects.create(user=ann, name="ann's phone", confirmed=True)
    WebAuthnCredential.objects.create(
        user=ann, name="Ann's key", credential_id="ann-key", public_key=b"y"
    )
    flock = Flock.objects.create(name="Harbour office", note="Sensors in the server room")
    FlockMembership.objects.create(user=ann, flock=flock, role="manager")
    org_key, _ = add_key(system, role="read-only", note="SIEM export")
    add_key(system, role="admin", note="Harbour sync", flock=flock)
    watcher = User.objects.create_user(
        "wes", "wes@example.com", PASSWORD, access_level=AccessLevel.USER
    )
    FlockMembership.objects.create(user=watcher, flock=flock, role="watcher")
    return {
        "admin": admin,
        "device": device,
        "ann": ann,
        "watcher": watcher,
        "samples": {
            "flock_id": flock.flock_id,
            "user_pk": ann.pk,
            "pk": ann.pk,
            "key_pk": key.pk,
            "admin_pk": admin.pk,
            "key_id": org_key.key_id,
            "fmt": "csv",
        },
    }


def concrete(route: str, samples: dict) -> str:
    """``route`` with its parameters filled from ``samples`` (a security key's own pk on the
    key routes)."""
    if route.startswith("account/security/keys/"):
        samples = {**samples, "pk": samples["key_pk"]}
    if route.startswith("users/<id:pk>/token/"):  # a personal token is its owner's
        samples = {**samples, "pk": samples["admin_pk"]}

    def fill(match: re.Match) -> str:
        name = match.group(1) or match.group(2)
        assert name in samples, f"no sample for <{name}> in {route}: add one to `people`"
        return str(samples[name])

    path = re.sub(r"<(?:\w+:)?(\w+)>|\(\?P<(\w+)>[^)]*\)", fill, route)
    return "/" + path.lstrip("^").rstrip("$").replace("\\", "")


def axe_violations(page: Page, axe_source: str) -> dict[str, list[str]]:
    """Per theme, the serious and critical axe violations of the page now open."""
    found, backgrounds = {}, set()
    page.add_script_tag(content=axe_source)
    for theme in THEMES:
        page.emulate_media(color_scheme=theme)
        backgrounds.add(page.evaluate("getComputedStyle(document.body).backgroundColor"))
        result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        found[theme] = [
            f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes']][:5]}"
            for v in result["violations"]
            if v["impact"] in BLOCKING
        ]
    assert page.evaluate("document.documentElement.dataset.theme") == "auto"
    assert len(backgrounds) == 2, page.url  # the page really changed theme
    return found


def new_context(browser: Browser, live_server) -> BrowserContext:
    return browser.new_context(
        base_url=live_server.url, bypass_csp=True, viewport={"width": 1280, "height": 860}
    )


def special_pages(browser: Browser, live_server, people: dict) -> Iterator[tuple[str, Page]]:
    """The pages a plain GET as the admin does not show: (label, page opened on it)."""
    anonymous = new_context(browser, live_server)
    page = anonymous.new_page()
    page.goto("/login/")
    yield "login", page
    page.goto("/no-such-page/")
    yield "404", page
    page.goto(urlparse(mail.set_password_link(people["ann"])).path)  # redirects to its form
    assert page.locator("#id_new_password1").count() == 1
    yield "password_reset_confirm", page
    page.goto("/accounts/reset/done/")
    yield "password_reset_complete", page
    page.goto("/accounts/forgot/")
    yield "password_forgot", page
    page.goto("/login/")
    page.fill("#id_login", people["admin"].username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/login/verify/")
    yield "login_verify", page
    anonymous.close()

    watcher = new_context(browser, live_server)
    page = watcher.new_page()
    sign_in(page, people["watcher"], PASSWORD)
    yield "watcher's profile", page
    page.goto("/users/")
    assert page.locator("h1").inner_text() == "You can't do that"
    yield "403", page
    watcher.close()


def test_every_portal_page_meets_wcag_aa_in_both_themes(browser, live_server, people, axe_source):
    context = new_context(browser, live_server)
    page = context.new_page()
    page.set_default_timeout(15_000)
    sign_in(page, people["admin"], PASSWORD, people["device"])
    checked, actions, problems = {}, [], []
    for route, pattern in routes():
        name = route_name(route, pattern)
        if route.startswith(OUTSIDE) or name in NOT_PAGES:
            continue
        path = concrete(route, people["samples"])
        reply = page.request.get(path, max_redirects=0)  # the session's cookies, no navigation
        if reply.status == 405:
            actions.append(name)
            continue
        if reply.status != 200 or "text/html" not in reply.headers.get("content-type", ""):
            where = reply.headers.get("location", "")
            problems.append(f"{name} ({path}): {reply.status} {where}; list it in NOT_PAGES?")
            continue
        page.goto(path)
        checked[name] = axe_violations(page, axe_source)

    page.goto("/account/security/recovery-codes/new/")  # its confirm page, checked above
    page.locator("#content form button[type=submit]").click()
    page.wait_for_url("**/recovery-codes/")
    checked["recovery_codes"] = axe_violations(page, axe_source)
    page.goto(f"/users/{people['admin'].pk}/token/")  # its confirm page, checked above
    page.locator("#content form button[type=submit]").click()
    page.wait_for_selector("text=API token")
    checked["token created"] = axe_violations(page, axe_source)
    page.goto("/api-keys/")
    page.get_by_label("Note").fill("Nightly report")
    page.get_by_role("button", name="Create key").click()
    page.wait_for_selector("[data-copy], code")
    checked["API key created"] = axe_violations(page, axe_source)
    context.close()
    for label, special in special_pages(browser, live_server, people):
        checked[label] = axe_violations(special, axe_source)

    assert problems == []
    # the listed exceptions are real routes, and the list covers them
    names = {route_name(r, p) for r, p in routes() if not r.startswith(OUTSIDE)}
    assert set(NOT_PAGES) <= names
    assert names <= set(checked) | set(actions) | set(NOT_PAGES)
    assert len(checked) > 25 and {"totp_setup", "user_detail", "home"} <= set(checked)
    print(f"axe: {len(checked)} pages checked in both themes, {len(actions)} POST-only routes")
    failing = {page: found for page, found in checked.items() if any(found.values())}
    assert failing == {}
