"""Passkeys in real headless Chromium with its DevTools virtual authenticator (resident keys,
user verification): add one on the Security page, sign in with it and no password, and the
refusals a person meets (a wrong origin, a copied key), at desktop and phone size."""

from __future__ import annotations

import pytest
from helpers import PASSWORD, save_recovery_codes
from playwright.sync_api import Page, expect

from users.models import AuditEntry, WebAuthnCredential

from .conftest import ARTIFACTS, add_virtual_authenticator

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]

SIZES = {"desktop": (1280, 860), "phone": (390, 844)}
# A browser without conditional mediation (passkeys in the name field's autofill): the button
# is the way. Chromium's virtual authenticator answers an autofill request at once, as if the
# person had picked the passkey from the list, so the button is tested without it.
NO_AUTOFILL = """if (window.PublicKeyCredential) {
  PublicKeyCredential.isConditionalMediationAvailable = () => Promise.resolve(false);
}"""


def without_autofill(page: Page) -> Page:
    page.add_init_script(NO_AUTOFILL)
    return page


@pytest.fixture(params=list(SIZES))
def size(request, page: Page) -> str:
    width, height = SIZES[request.param]
    page.set_viewport_size({"width": width, "height": height})
    return request.param


def add_passkey(page: Page, login, user, name: str = "Laptop passkey") -> None:
    without_autofill(page)
    login(page, user, PASSWORD, next_url="/account/security/")
    page.fill("#id_passkey_name", name)
    page.click("text=Add a passkey")
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    save_recovery_codes(page)
    page.click("text=Sign out")
    expect(page.locator(".msg-success")).to_contain_text("You have signed out")


def test_add_a_passkey_and_sign_in_with_the_button(
    page, shot, login, ann, virtual_authenticator, size
):
    without_autofill(page)
    login(page, ann, PASSWORD, next_url="/account/security/")
    expect(page.locator("#passkeys .badge")).to_have_text("None")
    shot(f"{size}-security-no-passkey")
    page.fill("#id_passkey_name", "Laptop passkey")
    page.click("text=Add a passkey")
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    save_recovery_codes(page)
    expect(page.locator("#passkeys table")).to_contain_text("Laptop passkey")
    expect(page.locator("#passkeys .badge")).to_have_text("1 passkey")
    expect(page.locator("#keys .badge")).to_have_text("None")
    shot(f"{size}-passkey-added")
    key = WebAuthnCredential.objects.get(user=ann)
    assert key.discoverable  # Chromium reported credProps.rk

    page.click("text=Sign out")
    page.goto("/login/?next=/account/security/")
    expect(page.locator("#id_login")).to_have_attribute("autocomplete", "username webauthn")
    expect(page.get_by_role("button", name="Sign in with a passkey")).to_be_visible()
    shot(f"{size}-login-with-passkey")
    page.click("text=Sign in with a passkey")
    page.wait_for_url("**/account/security/")
    expect(page.locator("#passkeys table")).not_to_contain_text("Never")
    shot(f"{size}-signed-in-with-passkey")
    login_entry = AuditEntry.objects.filter(action_type="user_login").first()
    assert login_entry.message == "ann@example.com signed in (passkey “Laptop passkey”)"


def test_the_name_fields_autofill_offers_the_passkey(page, login, ann, virtual_authenticator):
    login(page, ann, PASSWORD, next_url="/account/security/")
    page.fill("#id_passkey_name", "Laptop passkey")
    page.click("text=Add a passkey")
    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    page.context.clear_cookies()  # a new visit, signed out
    page.goto("/login/")  # the virtual authenticator picks the passkey from the autofill list
    page.wait_for_url(f"**/users/{ann.pk}/")
    page.screenshot(path=str(ARTIFACTS / "passkeys" / "desktop-signed-in-from-autofill.png"))
    assert AuditEntry.objects.filter(
        action_type="user_login", message__endswith="(passkey “Laptop passkey”)"
    ).exists()


def test_a_passkey_on_the_wrong_origin_is_refused(
    page, shot, login, ann, virtual_authenticator, settings, live_server
):
    add_passkey(page, login, ann)
    settings.WEBAUTHN_ORIGIN = "https://portal.example.com"  # the portal expects another address
    page.goto("/login/")
    # The page names the address to open instead of offering the button ...
    expect(page.locator("[data-passkey-status]")).to_contain_text(
        "Security keys work only at https://portal.example.com"
    )
    # ... and a page that does not know it (its origin hint removed) is refused by the server.
    page.add_init_script(
        "new MutationObserver((_, o) => { const m = document.querySelector("
        "'meta[name=\"webauthn-origin\"]'); if (m) { m.remove(); o.disconnect(); } })"
        ".observe(document, {childList: true, subtree: true});"
    )
    page.goto("/login/")
    page.click("text=Sign in with a passkey")
    expect(page.locator("[data-passkey-status]")).to_contain_text("not accepted")
    shot("wrong-origin-refused")
    assert page.url == f"{live_server.url}/login/"
    assert not AuditEntry.objects.filter(action_type="user_login", message__contains="passkey")


def test_a_copied_passkey_is_refused(open_page, login, ann, page, virtual_authenticator):
    add_passkey(page, login, ann)
    cdp = page.context.new_cdp_session(page)
    [copied] = cdp.send("WebAuthn.getCredentials", {"authenticatorId": virtual_authenticator})[
        "credentials"
    ]
    # The owner signs in: the key's counter moves on.
    page.goto("/login/")
    page.click("text=Sign in with a passkey")
    page.wait_for_url("**/users/*/")
    counter = WebAuthnCredential.objects.get().sign_count
    assert counter >= 1

    # The copy, on someone else's device, still has the old counter.
    thief = without_autofill(open_page(width=390))
    thief.set_viewport_size({"width": 390, "height": 844})
    cdp, authenticator = add_virtual_authenticator(thief)
    cdp.send("WebAuthn.addCredential", {"authenticatorId": authenticator, "credential": copied})
    thief.goto("/login/")
    thief.click("text=Sign in with a passkey")
    expect(thief.locator("[data-passkey-status]")).to_contain_text("counter went backwards")
    thief.screenshot(path=str(ARTIFACTS / "passkeys" / "phone-copied-passkey-refused.png"))
    assert WebAuthnCredential.objects.get().sign_count == counter
    assert AuditEntry.objects.filter(
        action_type="user_login_failed", message__contains="copied key"
    ).exists()
