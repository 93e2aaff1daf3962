"""Lock-outs people understand, in headless Chromium at desktop and phone size: the sign-in page
says until when and to ask an admin; the admin sees "sign-in paused until …" beside the lift."""

from __future__ import annotations

import pytest
from helpers import PASSWORD
from playwright.sync_api import Page, expect

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def try_password(page: Page, login: str, password: str) -> None:
    page.goto("/login/")
    page.fill("#id_login", login)
    page.fill("#id_password", password)
    page.click("form button[type=submit]")


def test_the_locked_out_person_and_the_admin_are_told_until_when(
    page, shot, open_page, login, admin, ann, settings, sized
):
    settings.AXES_FAILURE_LIMIT = 2
    for n in range(2):
        try_password(page, "ann", f"guess {n}")
    expect(page.get_by_role("heading", name="Sign-in paused")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("Signing in is paused until")
    expect(page.get_by_role("alert")).to_contain_text("ask an admin to lift the pause")
    folder = shot(f"locked-out-{sized}").parent

    admin_page = open_page()
    admin_page.set_viewport_size(page.viewport_size)
    login(admin_page, admin, PASSWORD, next_url=f"/users/{ann.pk}/")
    note = admin_page.locator("[data-signin-pause]")
    expect(note).to_contain_text("Sign-in paused until")
    expect(note).to_contain_text("from 127.0.0.1")
    admin_page.screenshot(path=str(folder / f"02-user-page-{sized}.png"), full_page=True)
    admin_page.click("text=Lift sign-in lock-out…")
    admin_page.click("button:text-is('Lift lock-out')")
    expect(admin_page.locator(".msg-success")).to_contain_text("Lifted the sign-in lock-out")
    expect(admin_page.locator("[data-signin-pause]")).to_have_count(0)

    try_password(page, "ann", PASSWORD)
    expect(page.get_by_role("heading", name="Sign-in paused")).to_have_count(0)
