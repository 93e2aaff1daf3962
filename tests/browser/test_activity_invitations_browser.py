"""Last activity and invitations (issue 15, points 1 and 2) in headless Chromium at desktop and
phone size: an admin names the organisation, invites Carol, sees her invited with the link's
expiry, resends an expired invitation; Carol chooses a password on a page naming her account
and signs in; the users list then sorts her by last sign-in, with exact UTC times on hover."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from helpers import NEW_PASSWORD, PASSWORD, SIZES, link_path
from playwright.sync_api import expect

from users.models import OutboxMail, User

from .conftest import ARTIFACTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

CAROL_SHOTS = ARTIFACTS / "invited-carol"  # her own browser's pages (``shot`` takes the admin's)


def test_invite_resend_choose_a_password_and_see_the_last_sign_in(
    page, sized, shot, login, admin, sent_mail, settings, live_server, open_page
):
    settings.PORTAL_BASE_URL = live_server.url
    login(page, admin, PASSWORD)
    page.goto("/org/")
    page.fill("#id_org_name", "Acme SOC")
    page.locator("form[action='/org/name/'] button").click()
    expect(page.locator(".msg").first).to_contain_text("The organisation is called Acme SOC.")
    expect(page.locator("[data-org-name]")).to_have_text("Acme SOC")
    shot(f"org-name-{sized}")

    page.goto("/users/add/")
    page.fill("#id_email", "carol@example.com")
    page.get_by_role("button", name="Add user").click()
    page.wait_for_url(re.compile(r"/users/\d+/$"))
    expect(page.locator("[data-invitation]")).to_have_text(
        "Invited just now by admin@example.com. The welcome mail is queued; its link works for "
        "3 days from when it is sent."
    )
    sent_mail()
    page.goto("/users/")
    carol_row = page.locator("tr", has=page.get_by_role("link", name="carol@example.com"))
    expect(carol_row.locator(".badge.warn")).to_have_text("invited")
    expect(carol_row.locator("[data-invitation]")).to_have_text("link expires in 2 days")
    shot(f"users-invited-{sized}")

    # Four days later the link has expired: the profile says so and resends it.
    OutboxMail.objects.update(
        created=timezone.now() - timedelta(days=4), sent_at=timezone.now() - timedelta(days=4)
    )
    carol = User.objects.get(email="carol@example.com")
    page.goto(f"/users/{carol.pk}/")
    expect(page.locator("[data-invitation]")).to_have_text(
        "Invited 4 days ago by admin@example.com. The link expired 1 day ago."
    )
    shot(f"profile-invitation-expired-{sized}")
    page.get_by_role("button", name="Resend invitation").click()
    expect(page.locator(".msg").first).to_contain_text(
        "Queued the welcome mail to carol@example.com again."
    )
    welcome = sent_mail()[-1]
    assert welcome.subject == "Welcome to Acme SOC"
    assert "admin@example.com invited you to Acme SOC" in welcome.body

    # Carol, in her own browser, chooses a password on a page that names her account.
    CAROL_SHOTS.mkdir(parents=True, exist_ok=True)
    carol_page = open_page()
    carol_page.set_viewport_size({"width": SIZES[sized][0], "height": SIZES[sized][1]})
    carol_page.goto(link_path(welcome))
    expect(carol_page.get_by_role("heading", name="Choose a password")).to_be_visible()
    expect(carol_page.locator("[data-account]")).to_have_text("For carol@example.com on Acme SOC.")
    expect(carol_page.locator(".helptext li").nth(1)).to_have_text(
        "Your password must contain at least 8 characters."
    )
    carol_page.fill("#id_new_password1", "password")
    carol_page.fill("#id_new_password2", "password")
    carol_page.click("text=Set password")
    expect(carol_page.locator(".field.has-error").first.locator("label")).to_have_text(
        "New password"
    )
    carol_page.fill("#id_new_password1", NEW_PASSWORD)
    carol_page.fill("#id_new_password2", NEW_PASSWORD)
    carol_page.screenshot(path=str(CAROL_SHOTS / f"set-password-{sized}.png"), full_page=True)
    carol_page.click("text=Set password")
    expect(carol_page.get_by_role("heading", name="Password set")).to_be_visible()
    login(carol_page, carol, NEW_PASSWORD)
    expect(carol_page.locator(".whoami")).to_contain_text("carol@example.com")

    # Back on the list: Carol is active, signed in just now, the first one descending.
    page.goto("/users/?sort=-last_login")
    first = page.locator("tbody tr").first
    expect(first.get_by_role("link", name="carol@example.com")).to_be_visible()
    stamp = first.locator("time").first
    expect(stamp).to_have_text("just now")
    expect(stamp).to_have_attribute("title", re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d UTC$"))
    page.goto("/users/?signed_in=never")
    expect(page.get_by_role("link", name="carol@example.com")).to_have_count(0)
    page.goto("/users/?sort=-last_login")
    shot(f"users-last-signed-in-{sized}")
    page.goto(f"/users/{carol.pk}/")
    expect(page.locator("[data-last-login] time")).to_have_text("just now")
    expect(page.locator("[data-invitation]")).to_have_count(0)
    shot(f"profile-active-{sized}")
