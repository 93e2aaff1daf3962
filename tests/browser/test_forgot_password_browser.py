"""'Forgot your password?' and the key button on a mismatched address, in headless Chromium at
desktop and phone size."""

from __future__ import annotations

import pytest
from helpers import NEW_PASSWORD, PASSWORD, link_path
from playwright.sync_api import Page, expect

from users import services
from users.models import AuditEntry

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def ask_for(page: Page, name: str) -> str:
    """Ask for a reset mail from the sign-in page; returns the answer's text."""
    page.goto("/login/")
    page.click("text=Forgot your password?")
    page.wait_for_url("**/accounts/forgot/")
    expect(page.locator("#id_login")).to_be_focused()
    page.fill("#id_login", name)
    page.click("text=Send reset link")
    page.wait_for_url("**/accounts/forgot/sent/")
    return page.locator("main").inner_text()


def test_forgot_password_mails_a_link_that_sets_the_password(
    page, sized, shot, login, ann, sent_mail, settings, live_server
):
    settings.PORTAL_BASE_URL = live_server.url
    page.goto("/login/")
    expect(page.get_by_role("link", name="Forgot your password?")).to_be_visible()
    shot(f"login-{sized}")
    page.click("text=Forgot your password?")
    shot(f"forgot-form-{sized}")
    unknown = ask_for(page, "nobody@example.com")
    assert sent_mail() == []
    known = ask_for(page, "ann@example.com")
    assert known == unknown and "Check your mail" in known
    shot(f"forgot-sent-{sized}")

    (message,) = sent_mail()
    assert message.to == ["ann@example.com"]
    assert message.body.count(live_server.url + "/accounts/reset/") == 1
    page.goto(link_path(message))
    expect(page.get_by_role("heading", name="Choose a password")).to_be_visible()
    page.fill("#id_new_password1", NEW_PASSWORD)
    page.fill("#id_new_password2", NEW_PASSWORD)
    shot(f"choose-password-{sized}")
    page.click("text=Set password")
    expect(page.get_by_role("heading", name="Password set")).to_be_visible()
    page.goto(link_path(message))  # once only
    expect(page.get_by_role("heading", name="This link is no longer valid")).to_be_visible()

    login(page, ann, NEW_PASSWORD)
    expect(page.locator(".whoami")).to_contain_text("ann@example.com")
    assert AuditEntry.objects.filter(action_type="user_password_reset_request").count() == 1


def test_switched_off_the_page_says_ask_your_administrator(page, sized, shot, ann, system):
    services.set_self_service_reset(system, False)
    page.goto("/login/")
    page.click("text=Forgot your password?")
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Ask your administrator")
    expect(page.locator("#id_login")).to_have_count(0)
    shot(f"forgot-off-{sized}")


def test_the_key_button_names_the_address_to_open(page, sized, shot, ann, live_server):
    """The page opened at 127.0.0.1 while keys are bound to localhost: the button stays off and
    the page links to the right address; at that address it works."""
    assert live_server.url.startswith("http://localhost:")
    other = live_server.url.replace("localhost", "127.0.0.1")
    page.goto(f"{other}/login/?next=/account/security/")
    expect(page.locator("[data-passkey-status]")).to_have_text(
        f"Security keys work only at {live_server.url}. Open the portal there to use your key."
    )
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_disabled()
    shot(f"login-on-other-address-{sized}")
    page.fill("#id_login", "ann")
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{other}/account/security/")
    for section, button in [("#keys", "Add security key"), ("#passkeys", "Add a passkey")]:
        status = page.locator(f"{section} [data-webauthn-status]")
        expect(status).to_have_text(
            f"Security keys work only at {live_server.url}. Open the portal there to use your key."
        )
        assert status.locator("a").get_attribute("href") == f"{live_server.url}/account/security/"
        expect(page.get_by_role("button", name=button)).to_be_disabled()
    shot(f"key-on-other-address-{sized}")

    page.locator("#keys [data-webauthn-status] a").click()
    page.wait_for_url(f"{live_server.url}/**")
    page.goto("/login/?next=/account/security/")
    page.fill("#id_login", "ann")
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url("**/account/security/")
    expect(page.get_by_role("button", name="Add security key")).to_be_enabled()
    expect(page.get_by_role("button", name="Add a passkey")).to_be_enabled()
    expect(page.locator("[data-webauthn-status]:visible")).to_have_count(0)
