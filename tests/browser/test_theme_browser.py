"""Dark mode in headless Chromium (issue 15, point 7): the pages follow the system's
prefers-color-scheme; the toggle's choice is remembered by the browser (and shared with the
Django admin's own toggle) and applied before the page is drawn, under the strict CSP.

Screenshots of the main pages in both themes, desktop and 390x844, go to
test-artifacts/themes/ (git-ignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import PASSWORD
from playwright.sync_api import Page, expect

from flocks.models import Flock, FlockMembership
from users.models import AccessLevel, User

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "themes"
PHONE = {"width": 390, "height": 844}
LIGHT_BG, DARK_BG = "rgb(244, 245, 247)", "rgb(13, 19, 33)"


def background(page: Page) -> str:
    return page.evaluate("getComputedStyle(document.body).backgroundColor")


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


@pytest.fixture
def admin_with_app(db) -> tuple[User, TOTPDevice]:
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    return admin, TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)


def test_the_pages_follow_the_system_and_the_toggle_is_remembered(open_page, login, admin_with_app):
    admin, device = admin_with_app
    page = open_page()
    page.emulate_media(color_scheme="dark")
    page.goto("/login/")
    assert background(page) == DARK_BG  # the system's choice, no script needed
    page.emulate_media(color_scheme="light")
    assert background(page) == LIGHT_BG
    login(page, admin, PASSWORD, device)

    toggle = page.locator("[data-theme-toggle]")
    expect(toggle).to_have_text("◐ Theme: auto")
    expect(toggle).to_have_attribute("title", "Colour theme: auto (light). Click to change it.")
    toggle.click()  # auto -> the opposite of the system's
    expect(toggle).to_have_text("◐ Theme: dark")
    assert background(page) == DARK_BG
    assert page.evaluate("localStorage.getItem('theme')") == "dark"

    # on the next page the choice is on <html> before the document has even been parsed
    page.add_init_script(
        "document.addEventListener('DOMContentLoaded', () => "
        "{ window.themeAtLoad = document.documentElement.dataset.theme; });"
    )
    page.goto("/users/")
    assert page.evaluate("window.themeAtLoad") == "dark" and background(page) == DARK_BG
    assert page.locator("head > script[src$='theme.js']:not([defer]):not([async])").count() == 1
    page.emulate_media(media="print")
    assert background(page) == LIGHT_BG  # paper stays light
    page.emulate_media(media="screen")

    # the Django admin reads the same choice, and its toggle writes it back for the portal
    page.goto("/django-admin/")
    assert page.evaluate("document.documentElement.dataset.theme") == "dark"
    shot(page, "django-admin-dark-desktop")
    page.locator("#user-tools .theme-toggle").click()  # Django's cycle: dark -> light
    page.goto("/")
    assert page.evaluate("document.documentElement.dataset.theme") == "light"
    expect(toggle).to_have_text("◐ Theme: light")
    toggle.click()
    expect(toggle).to_have_text("◐ Theme: auto")
    page.emulate_media(color_scheme="dark")
    expect(toggle).to_have_attribute("title", "Colour theme: auto (dark). Click to change it.")
    assert background(page) == DARK_BG  # auto follows the system at once


def test_screenshots_of_both_themes_at_desktop_and_phone_size(open_page, login, admin_with_app):
    admin, device = admin_with_app
    ann = User.objects.create_user(
        "ann", "ann@example.com", PASSWORD, access_level=AccessLevel.USER, note="Night shift"
    )
    FlockMembership.objects.create(
        user=ann, flock=Flock.objects.create(name="Harbour office"), role="manager"
    )
    pages = {
        "dashboard": "/",
        "users": "/users/",
        "profile": f"/users/{ann.pk}/",
        "audit": "/audit/",
        "totp-setup": "/account/security/totp/",
    }
    for size, viewport in (("desktop", None), ("phone", PHONE)):
        page = open_page(width=(viewport or {"width": 1280})["width"])
        if viewport:
            page.set_viewport_size(viewport)
        login(page, admin, PASSWORD, device)
        for theme in ("light", "dark"):
            page.emulate_media(color_scheme=theme)
            for name, url in pages.items():
                page.goto(url)
                assert background(page) == (DARK_BG if theme == "dark" else LIGHT_BG)
                shot(page, f"{name}-{theme}-{size}")
        page.context.clear_cookies()  # signed out: the sign-in page
        for theme in ("light", "dark"):
            page.emulate_media(color_scheme=theme)
            page.goto("/login/")
            shot(page, f"login-{theme}-{size}")
        assert (
            page.evaluate("document.documentElement.scrollWidth")
            <= (viewport or {"width": 1280})["width"]
        )
