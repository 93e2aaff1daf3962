"""The admin pages in headless Chromium: an admin runs a user's life cycle from the browser
and finds every step in the audit log; a watcher signs in and cannot change their flock.

Screenshots of each page go to test-artifacts/pages/ (git-ignored) for people to look at.
"""

from __future__ import annotations

import re
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

SHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "pages"
SHOTS.mkdir(parents=True, exist_ok=True)


def shot(page: Page, name: str) -> None:
    page.screenshot(path=SHOTS / f"{name}.png", full_page=True)


def flash(page: Page) -> str:
    return page.locator(".messages").inner_text()


def test_admin_runs_a_users_life_cycle_from_the_browser(open_page, login):
    admin = User.objects.create_superuser("root", "root@example.com", PASSWORD)
    device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    page = open_page()

    page.goto("/login/")
    shot(page, "01-sign-in")
    login(page, admin, PASSWORD, device)
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()

    page.get_by_role("link", name="+ Add user").click()
    page.get_by_label("E-mail").fill("walt@example.com")
    page.get_by_label("Note").fill("Night shift, SOC")
    shot(page, "03-add-user")
    page.get_by_role("button", name="Add user").click()
    assert "Added walt@example.com." in flash(page)
    walt = User.objects.get(email="walt@example.com")

    page.get_by_role("link", name="Flocks", exact=True).click()
    page.get_by_role("link", name="+ New flock").click()
    page.get_by_label("Name").fill("Harbour office")
    page.get_by_role("button", name="Create flock").click()
    assert "Created flock Harbour office." in flash(page)

    page.get_by_role("link", name="Users", exact=True).click()
    page.get_by_role("link", name="walt@example.com").first.click()
    page.get_by_text("Assign to flocks").click()  # a <details>: no JavaScript needed
    page.get_by_label("Find flocks by name").fill("harb")  # search as you type
    page.get_by_role("listbox").get_by_role("option", name="Harbour office").click()
    expect(page.get_by_label("Harbour office")).to_be_checked()
    page.get_by_label("Role").select_option("watcher")
    page.get_by_role("button", name="Assign", exact=True).click()
    assert "Assigned walt@example.com as watcher to Harbour office." in flash(page)

    page.get_by_role("link", name="Disable user…").click()
    expect(page.locator("h1")).to_have_text("Disable walt@example.com?")
    shot(page, "05b-confirm-disable")
    page.get_by_role("button", name="Disable user").click()
    assert "Disabled walt@example.com and signed them out." in flash(page)
    expect(page.locator(".badges")).to_contain_text("disabled")
    page.get_by_role("button", name="Enable user").click()
    assert "Enabled walt@example.com." in flash(page)

    TOTPDevice.objects.create(
        user=walt, name="walt's phone", confirmed=True
    )  # walt enrolled meanwhile
    page.reload()
    shot(page, "04-user-profile")
    page.get_by_role("link", name="Reset authenticator app…").click()
    shot(page, "05-confirm-reset-totp")
    page.get_by_role("button", name="Reset authenticator app").click()
    assert "Reset the authenticator app of walt@example.com (1 app removed)." in flash(page)
    assert not TOTPDevice.objects.filter(user=walt).exists()

    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("User", exact=True).fill("walt@example.com")
    page.get_by_role("button", name="Filter").click()
    log = page.locator("table").inner_text()
    for action in (
        "Authenticator app reset",
        "User enabled",
        "User disabled",
        "Added to flock",
        "User added",
    ):
        assert action in log
    assert "user_add" not in log  # codes are for the API and the exports
    assert "Assigned walt@example.com to flock Harbour office as watcher" in log
    shot(page, "07-audit-log")
    csv = page.request.get(page.get_by_role("link", name="Download CSV").get_attribute("href"))
    assert csv.status == 200 and csv.text().count("walt@example.com") >= 5

    page.get_by_role("link", name="Portal").click()
    shot(page, "02-dashboard")
    page.get_by_role("link", name="Users", exact=True).click()
    shot(page, "02b-users")
    page.get_by_role("link", name="Flocks", exact=True).click()
    shot(page, "06-flocks")
    page.get_by_role("link", name="Harbour office").click()
    expect(page.get_by_role("heading", name="Watchers 1")).to_be_visible()
    shot(page, "06b-flock")
    page.get_by_role("link", name="Org settings").click()
    shot(page, "08-org-settings")

    phone = open_page(width=390)
    login(phone, admin, PASSWORD, device)
    shot(phone, "09-users-phone")
    phone.goto(f"/users/{walt.pk}/")
    shot(phone, "10-user-profile-phone")


def test_a_watcher_sees_the_flock_but_cannot_change_it(open_page, login):
    flock = Flock.objects.create(name="Harbour office", note="Sensors in the server room")
    manager = User.objects.create_user("mia", "mia@example.com", PASSWORD)
    watcher = User.objects.create_user(
        "wes", "wes@example.com", PASSWORD, access_level=AccessLevel.USER
    )
    FlockMembership.objects.create(user=manager, flock=flock, role="manager")
    FlockMembership.objects.create(user=watcher, flock=flock, role="watcher")
    page = open_page()

    login(page, watcher, PASSWORD)
    expect(page).to_have_url(re.compile(rf"/users/{watcher.pk}/$"))
    shot(page, "11-own-profile")
    # the API takes admins' tokens and API keys only: a watcher is pointed to API keys instead
    expect(page.get_by_text("ask an admin for an API key")).to_be_visible()
    assert page.get_by_role("button", name="Create API token").count() == 0
    page.get_by_role("link", name="My flocks").click()
    page.get_by_role("link", name="Harbour office").click()
    expect(page.get_by_text("you can see it but not change it")).to_be_visible()
    assert page.locator("#content form").count() == 0
    shot(page, "12-flock-as-watcher")

    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    forged = page.request.post(
        f"/flocks/{flock.flock_id}/rename/",
        form={"name": "Hijacked", "csrfmiddlewaretoken": csrf},
        headers={"Referer": page.url},
    )
    assert forged.status == 403
    flock.refresh_from_db()
    assert flock.name == "Harbour office"

    page.goto("/users/")
    expect(page.get_by_role("heading", name="You can't do that")).to_be_visible()
    shot(page, "13-forbidden")
