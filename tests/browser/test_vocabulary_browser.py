"""One vocabulary and only the actions that apply (issue 15.4) in real headless Chromium, at
desktop and 390x844 phone size: a user's profile under org-wide enforcement in its grace
period, the admin's own profile with the actions they cannot take on themselves, and
"Disable user…" asking first."""

from __future__ import annotations

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import PASSWORD
from playwright.sync_api import Page, expect

from users import services, unavailable
from users.models import AccessLevel, WebAuthnCredential

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SIZES = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 390, "height": 844}}
JARGON = re.compile(r"\b(totp|webauthn)\b", re.IGNORECASE)


def readable(page: Page) -> str:
    """The page's text as a person sees it (innerText: no attributes, no hidden elements)."""
    return page.locator("body").inner_text()


@pytest.mark.parametrize("size", SIZES)
def test_profiles_say_authenticator_app_and_offer_only_what_applies(
    page, shot, login, admin, make_user, system, size
):
    page.set_viewport_size(SIZES[size])
    device = TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    make_user("second@example.com", access_level=AccessLevel.ADMIN)
    ann = make_user("ann@example.com")
    bob = make_user("bob@example.com")
    TOTPDevice.objects.create(user=ann, name="phone", confirmed=True)
    WebAuthnCredential.objects.create(user=ann, name="Blue key", credential_id="k", public_key=b"x")
    services.set_global_2fa(system, True, grace_period_hours=48)
    login(page, admin, PASSWORD, totp_device=device, next_url=f"/users/{ann.pk}/")

    required = page.get_by_test_id("2fa-required")
    expect(required).to_contain_text("Yes (org-wide), from ")
    expect(page.locator(".badges")).to_contain_text("authenticator app")
    expect(page.locator(".badges")).to_contain_text("security keys")
    expect(page.get_by_role("link", name="Reset authenticator app…")).to_be_visible()
    expect(page.get_by_role("link", name="Reset security keys…")).to_be_visible()
    assert not JARGON.search(readable(page))
    shot(f"{size}-profile-with-factors")

    page.goto(f"/users/{bob.pk}/")
    expect(page.get_by_role("button", name="Reset authenticator app…")).to_be_disabled()
    expect(page.get_by_role("button", name="Reset security keys…")).to_be_disabled()
    expect(page.get_by_text("bob@example.com has no authenticator app to reset.")).to_be_visible()
    page.get_by_role("link", name="Disable user…").click()
    expect(page.locator("h1")).to_have_text("Disable bob@example.com?")
    expect(page.get_by_text("is signed out everywhere at once")).to_be_visible()
    shot(f"{size}-confirm-disable")
    page.get_by_role("button", name="Disable user").click()
    expect(page.get_by_text("Disabled bob@example.com and signed them out.")).to_be_visible()
    expect(page.get_by_role("button", name="Enable user")).to_be_visible()
    shot(f"{size}-profile-disabled")

    page.goto(f"/users/{admin.pk}/")
    for name in ("Disable user…", "Remove user…", "Reset authenticator app…"):
        expect(page.get_by_role("button", name=name)).to_be_disabled()
    for reason in (unavailable.OWN_DISABLE, unavailable.OWN_REMOVE, unavailable.OWN_FACTORS):
        expect(page.get_by_text(reason)).to_be_visible()
    assert not JARGON.search(readable(page))
    shot(f"{size}-own-profile")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
