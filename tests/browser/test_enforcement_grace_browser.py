"""Enforcement with a grace period (issue 14.1) in real headless Chromium, desktop and a
390x844 phone: the admin switches it on through the confirmation, follows the count to the
users it means and mails them; a user in the period sees the reminder, sets up or skips, and
meets the wall at their next page once a shorter period has run out."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import PASSWORD
from playwright.sync_api import Page, expect

from users import services
from users.models import OrgSetting, User

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

PHONE = {"width": 390, "height": 844}
SIZES = {"desktop": {"width": 1280, "height": 860}, "phone": PHONE}


def no_sideways_scroll(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.parametrize("size", SIZES)
def test_admin_turns_it_on_with_a_grace_period_and_mails_the_stragglers(
    page, shot, login, admin, make_user, size
):
    page.set_viewport_size(SIZES[size])
    device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    for name in ("ann", "bob", "cy"):
        make_user(f"{name}@example.com")
    TOTPDevice.objects.create(user=make_user("dee@example.com"), name="app", confirmed=True)
    login(page, admin, PASSWORD, totp_device=device, next_url="/org/")
    expect(page.get_by_role("heading", name="Org settings")).to_be_visible()
    page.check("#id_globally_enforce_2fa")
    page.fill("#id_grace_period_hours", "48")
    shot(f"{size}-org-before")
    page.click("form button[type=submit] >> text=Save")
    confirm = page.locator("[data-enforce-confirm]")
    expect(confirm).to_contain_text("3 active users have no second factor.")
    expect(confirm).to_contain_text("They keep working for 48 hours")
    expect(confirm).to_contain_text("at their next page, not their next sign-in")
    no_sideways_scroll(page)
    shot(f"{size}-confirm-enforcement")
    assert not OrgSetting.load().globally_enforce_2fa  # nothing until confirmed
    page.get_by_role("button", name="Turn on enforced 2FA").click()
    expect(page.locator(".msg-success")).to_contain_text("The grace period of 48 hours ends")
    org = OrgSetting.load()
    assert (org.globally_enforce_2fa, org.grace_period_hours) == (True, 48)
    ends = org.grace_period_ends()
    expect(page.locator("[data-grace-ends]")).to_have_text(f"{ends:%Y-%m-%d %H:%M} UTC")
    no_sideways_scroll(page)
    shot(f"{size}-org-enforced-with-grace")

    page.click("[data-without-factor]")
    page.wait_for_url("**/users/?disabled=no&two_factor=none")
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(3)
    for name in ("ann", "bob", "cy"):
        expect(page.locator("table tbody")).to_contain_text(f"{name}@example.com")
    shot(f"{size}-users-without-factor")

    page.goto("/org/")
    page.click("text=Mail everyone without a factor now")
    expect(
        page.get_by_role("heading", name="Mail everyone without a second factor?")
    ).to_be_visible()
    shot(f"{size}-confirm-mail")
    page.get_by_role("button", name="Mail them now").click()
    expect(page.locator("[data-reminder-job]")).to_contain_text("in progress")
    call_command("send_queued_mail", "--once", stdout=StringIO())  # the mail worker's pass
    page.reload()
    expect(page.locator("[data-reminder-job]")).to_contain_text("done, 3 mails queued")
    shot(f"{size}-mail-job-done")
    assert sorted(message.to[0] for message in mail.outbox) == [
        "ann@example.com",
        "bob@example.com",
        "cy@example.com",
    ]


@pytest.mark.parametrize("size", SIZES)
def test_a_user_in_the_period_is_reminded_may_skip_then_meets_the_wall(
    page, shot, login, ann, flock, system, size
):
    page.set_viewport_size(SIZES[size])
    User.objects.filter(pk=ann.pk).update(date_joined=timezone.now() - timedelta(days=30))
    services.set_global_2fa(system, True, grace_period_hours=72)
    OrgSetting.objects.update(enforced_since=timezone.now() - timedelta(hours=30))
    deadline = OrgSetting.load().grace_period_ends()
    login(page, ann, PASSWORD)  # signs in normally: to her profile
    page.wait_for_url(f"**/users/{ann.pk}/")
    banner = page.locator("[data-grace-banner]")
    expect(banner).to_contain_text(f"Set up a second factor by {deadline:%Y-%m-%d %H:%M} UTC")
    no_sideways_scroll(page)
    shot(f"{size}-reminder-on-profile")
    page.goto("/flocks/")
    expect(banner).to_be_visible()
    page.click("[data-grace-banner] >> text=Set up now")
    page.wait_for_url("**/account/security/?next=/flocks/")
    expect(banner).to_contain_text("you may skip it and keep working")
    no_sideways_scroll(page)
    shot(f"{size}-security-with-skip")
    page.click("text=Skip for now")
    page.wait_for_url("**/flocks/")
    expect(page.get_by_role("heading", name="Flocks")).to_be_visible()

    services.set_global_2fa(system, True, grace_period_hours=24)  # shortened: 30 h have passed
    page.goto(f"/users/{ann.pk}/")  # her next page, in the same session
    page.wait_for_url("**/account/security/")
    expect(page.locator(".msg-warning")).to_contain_text(
        "Two-factor sign-in is required for your account."
    )
    expect(page.locator("[data-grace-banner]")).to_have_count(0)
    no_sideways_scroll(page)
    shot(f"{size}-wall-after-deadline")
