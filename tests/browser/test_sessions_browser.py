"""Active sessions in headless Chromium at desktop and phone size: two (three) browser contexts
signed in as one person; signing the other out from the Security page signs it out, "Sign out
everywhere else" too, and an admin signs a user out from the user's page."""

from __future__ import annotations

import pytest
from helpers import PASSWORD
from playwright.sync_api import Page, expect

from users.models import User

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def signed_in_elsewhere(open_page, login, user: User) -> Page:
    other = open_page()
    login(other, user, PASSWORD, next_url="/account/security/")
    expect(other.get_by_role("heading", name="Security", exact=True)).to_be_visible()
    return other


def expect_signed_out(other: Page) -> None:
    other.reload()
    other.wait_for_url("**/login/?next=/account/security/")
    expect(other.locator("#id_login")).to_be_visible()


def test_sign_out_the_other_browser_then_everywhere_else(page, open_page, shot, login, ann, sized):
    other = signed_in_elsewhere(open_page, login, ann)
    login(page, ann, PASSWORD, next_url="/account/security/")
    sessions = page.locator("#sessions li")
    expect(sessions).to_have_count(2)
    current = page.locator("#sessions li[data-current]")
    expect(current.locator(".badge")).to_have_text("This session")
    expect(current.get_by_role("button")).to_have_count(0)
    expect(sessions.first).to_contain_text("Chrome")
    expect(sessions.first).to_contain_text("127.0.0.1")
    page.locator("#sessions").scroll_into_view_if_needed()
    shot(f"sessions-{sized}")

    page.locator("#sessions li:not([data-current])").get_by_role("button", name="Sign out").click()
    expect(page.locator(".msg-success")).to_have_text("Signed out that session.")
    expect(sessions).to_have_count(1)
    expect(page.get_by_role("button", name="Sign out everywhere else")).to_have_count(0)
    shot(f"other-signed-out-{sized}")
    expect_signed_out(other)

    third, fourth = (signed_in_elsewhere(open_page, login, ann) for _ in range(2))
    page.reload()
    expect(sessions).to_have_count(3)
    page.get_by_role("button", name="Sign out everywhere else").click()
    expect(page.locator(".msg-success")).to_have_text("Signed out 2 other sessions.")
    expect(sessions).to_have_count(1)
    shot(f"everywhere-else-{sized}")
    expect_signed_out(third)
    expect_signed_out(fourth)
    page.reload()
    expect(page.get_by_role("heading", name="Security", exact=True)).to_be_visible()


def test_an_admin_signs_a_user_out_from_their_page(page, open_page, shot, login, admin, ann, sized):
    anns = signed_in_elsewhere(open_page, login, ann)
    login(page, admin, PASSWORD, next_url=f"/users/{ann.pk}/")
    sessions = page.locator("#sessions li")
    expect(sessions).to_have_count(1)
    expect(page.locator("#sessions li[data-current]")).to_have_count(0)
    page.locator("#sessions").scroll_into_view_if_needed()
    shot(f"user-sessions-{sized}")
    page.get_by_role("button", name="Sign out all sessions").click()
    expect(page.locator(".msg-success")).to_have_text("Signed out 1 session.")
    expect(page.locator("#sessions")).to_contain_text("No active sessions.")
    shot(f"user-signed-out-{sized}")
    expect_signed_out(anns)
