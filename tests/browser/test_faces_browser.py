"""The other faces in headless Chromium (issue 15, point 6): an admin goes from the portal to
the Django admin and the API docs and back, at desktop and phone size, meeting no 404 (favicons
included); on a phone the nav strip shows that it scrolls.

Screenshots go to test-artifacts/faces/ (git-ignored).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import PASSWORD
from playwright.sync_api import Page, expect

from users.models import User

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "faces"
PHONE = {"width": 390, "height": 844}


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def failed_requests(page: Page) -> list[str]:
    """Every reply of 400 or more the page gets from now on (the favicon's too)."""
    failed: list[str] = []
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    return failed


@pytest.fixture
def admin_with_app(db) -> tuple[User, TOTPDevice]:
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    return admin, TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)


def test_an_admin_goes_to_the_django_admin_and_the_api_docs_and_back(
    open_page, login, admin_with_app
):
    admin, device = admin_with_app
    page = open_page()
    failed = failed_requests(page)
    login(page, admin, PASSWORD, device)

    page.get_by_role("link", name="Django admin").click()
    expect(page.locator("#site-name")).to_contain_text("Portal")
    assert page.evaluate("getComputedStyle(document.querySelector('#header')).backgroundColor") == (
        "rgb(15, 23, 42)"  # the portal's top bar, not Django's teal
    )
    for url in ("/favicon.ico", page.eval_on_selector("link[rel=icon]", "l => l.href")):
        assert page.request.get(url).status == 200, url
    shot(page, "01-django-admin")
    page.locator('#content-main a[href="/django-admin/users/user/"]').first.click()
    expect(page.get_by_role("heading", name="Select user to change")).to_be_visible()
    shot(page, "02-django-admin-users")
    page.get_by_role("link", name="Portal", exact=True).click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_role("link", name="API docs").click()
    page.wait_for_selector(".opblock-summary-description")
    expect(page.locator(".docs-bar")).to_contain_text("API docs")
    expect(page.locator(".opblock-summary-description").first).not_to_be_empty()
    shot(page, "03-api-docs")
    page.get_by_role("link", name="← Back to the portal").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()
    assert failed == []


def test_on_a_phone_the_nav_shows_where_it_scrolls(open_page, login, admin_with_app):
    admin, device = admin_with_app
    page = open_page(width=PHONE["width"])
    page.set_viewport_size(PHONE)
    failed = failed_requests(page)
    login(page, admin, PASSWORD, device)
    nav = page.locator("nav.mainnav")
    assert nav.evaluate("n => n.scrollWidth > n.clientWidth")  # more links than fit
    layers = nav.evaluate("n => getComputedStyle(n).backgroundAttachment")
    assert layers == "local, local, scroll, scroll"  # covers scroll with the links, glows stay
    assert page.evaluate("document.documentElement.scrollWidth") == PHONE["width"]
    shot(page, "04-phone-nav-start")
    nav.evaluate("n => n.scrollTo(n.scrollWidth, 0)")
    expect(nav.get_by_role("link", name="Security", exact=True)).to_be_in_viewport()
    page.screenshot(path=SHOTS / "05-phone-nav-end.png")

    page.goto("/django-admin/")
    expect(page.locator("#site-name")).to_contain_text("Portal")
    shot(page, "06-phone-django-admin")
    page.goto("/api/docs/")
    page.wait_for_selector(".opblock")
    expect(page.get_by_role("link", name="← Back to the portal")).to_be_in_viewport()
    page.screenshot(path=SHOTS / "07-phone-api-docs.png")
    assert failed == []
