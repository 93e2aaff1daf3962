"""Passkeys: registered as discoverable credentials with user verification, they sign in without
a password. A real software authenticator (helpers.PasskeyDevice) makes real attestations and
assertions; py_webauthn verifies them: nothing is mocked."""

from __future__ import annotations

import copy
import json

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import (
    ORIGIN,
    PASSWORD,
    PasskeyDevice,
    add_key,
    assertion,
    attestation,
    post_json,
    signed_in,
)

from users import services
from users.models import AuditEntry, WebAuthnCredential
from users.session_store import UserSession
from users.twofactor.passkey_views import CLONED_STAGE, NOT_ACCEPTED
from users.twofactor.session import CHECKED_AT, VERIFIED

pytestmark = pytest.mark.django_db

OPTIONS, VERIFY = "/login/passkey/options/", "/login/passkey/"
NO_CHALLENGE = "No security key request is in progress. Start again."


@pytest.fixture(autouse=True)
def _relying_party(settings):
    settings.WEBAUTHN_ORIGIN = ORIGIN
    settings.WEBAUTHN_RP_ID = "localhost"


@pytest.fixture
def ann_passkey(ann) -> PasskeyDevice:
    device = PasskeyDevice()
    assert add_key(ann, device).status_code == 200
    return device


def passkey_options(client: Client) -> bytes:
    response = client.post(OPTIONS, content_type="application/json")
    assert response.status_code == 200, response.content
    return response.content


def sign_in(client: Client, device: PasskeyDevice, origin: str = ORIGIN, next_url: str = ""):
    """The sign-in page's passkey ceremony: a challenge, the authenticator's answer, the check."""
    answer = assertion(device, passkey_options(client), origin)
    url = VERIFY + (f"?next={next_url}" if next_url else "")
    return post_json(client, url, answer_body(answer))


def answer_body(answer: dict) -> dict:
    return {"credential": answer}


def failures(stage: str = "passkey") -> list[str]:
    return list(
        AuditEntry.objects.filter(
            action_type="user_login_failed", additional_information__stage=stage
        ).values_list("target_label", flat=True)
    )


def test_add_a_passkey_asks_for_a_discoverable_verified_credential(ann):
    client = signed_in(ann, checked_now=True)
    options = json.loads(client.post("/account/security/passkeys/options/").content)
    assert options["authenticatorSelection"] == {
        "residentKey": "required",
        "requireResidentKey": True,
        "userVerification": "required",
    }
    assert options["extensions"] == {"credProps": True}
    credential = attestation(PasskeyDevice(), json.dumps(options))
    response = post_json(
        client, "/account/security/passkeys/", {"name": "Laptop", "credential": credential}
    )
    assert response.json() == {"redirect": "/account/security/recovery-codes/"}
    key = WebAuthnCredential.objects.get(user=ann)
    assert key.discoverable and key.name == "Laptop"
    entry = AuditEntry.objects.get(action_type="user_webauthn_add")
    assert entry.message == "Added passkey “Laptop” for ann@example.com"
    assert entry.additional_information["passkey"] is True
    # The Security page lists it among the passkeys, not the second-step keys.
    page = client.get("/account/security/").content.decode()
    passkeys = page[page.index('id="passkeys"') : page.index('id="keys"')]
    assert "Laptop" in passkeys and "1 passkey<" in passkeys
    assert "Laptop" not in page[page.index('id="keys"') :]


def test_a_security_key_stays_a_second_step_even_if_discoverable(ann):
    device = PasskeyDevice()
    assert add_key(ann, device, passkey=False).status_code == 200
    key = WebAuthnCredential.objects.get()
    assert not key.discoverable
    response = sign_in(Client(), device)
    assert response.status_code == 400
    assert "not as a passkey" in response.json()["error"]
    assert failures() == ["ann@example.com"]


def test_without_the_browser_saying_it_is_discoverable_a_passkey_is_a_second_step(ann):
    client = signed_in(ann, checked_now=True)
    options = client.post("/account/security/passkeys/options/").content
    credential = attestation(PasskeyDevice(reports_discoverable=False), options)
    assert post_json(
        client, "/account/security/passkeys/", {"name": "Old browser", "credential": credential}
    ).json() == {"redirect": "/account/security/recovery-codes/"}
    assert not WebAuthnCredential.objects.get().discoverable
    assert "added as a security key for the second step only" in (
        client.get("/account/security/recovery-codes/", follow=True).content.decode()
    )


def test_a_passkey_without_user_verification_is_not_registered(ann):
    response = add_key(ann, PasskeyDevice(user_verified=False))
    assert response.status_code == 400 and "not accepted" in response.json()["error"]
    assert not WebAuthnCredential.objects.exists()


def test_the_migration_leaves_existing_keys_second_steps():
    field = WebAuthnCredential._meta.get_field("discoverable")
    assert field.default is False and not field.null


def test_sign_in_with_a_passkey_counts_as_both_factors(ann, ann_passkey):
    client = Client()
    options = json.loads(passkey_options(client))
    assert options["allowCredentials"] == [] and options["userVerification"] == "required"
    answer = assertion(ann_passkey, json.dumps(options))
    response = post_json(client, VERIFY + "?next=/account/security/", answer_body(answer))
    assert response.status_code == 200
    assert response.json() == {"redirect": "/account/security/"}
    assert client.session[SESSION_KEY] == str(ann.pk)
    assert client.session[VERIFIED] == "passkey “Laptop”" and client.session[CHECKED_AT]
    key = WebAuthnCredential.objects.get()
    assert key.sign_count == 1 and key.last_used is not None
    login = AuditEntry.objects.get(action_type="user_login")
    assert login.message == "ann@example.com signed in (passkey “Laptop”)"
    assert login.additional_information["method"] == "passkey “Laptop”"
    assert client.get("/account/security/").status_code == 200
    # A recent check: a sensitive change goes through without asking again.
    assert client.get("/account/security/password/").status_code == 200


def test_an_admin_signed_in_with_a_passkey_passes_the_django_admin_check(admin):
    device = PasskeyDevice()
    assert add_key(admin, device).status_code == 200
    client = Client()
    assert sign_in(client, device).status_code == 200
    assert client.get("/django-admin/").status_code == 200


def test_a_foreign_next_is_not_followed(ann, ann_passkey):
    response = sign_in(Client(), ann_passkey, next_url="https://evil.example/")
    assert response.json() == {"redirect": "/"}


def test_the_wrong_origin_is_refused(ann, ann_passkey):
    client = Client()
    response = sign_in(client, ann_passkey, origin="https://evil.example")
    assert response.status_code == 400 and "not accepted" in response.json()["error"]
    assert SESSION_KEY not in client.session
    assert WebAuthnCredential.objects.get().sign_count == 0
    assert failures() == ["ann@example.com"]


def test_the_wrong_rp_id_is_refused(ann, ann_passkey):
    client = Client()
    options = json.loads(passkey_options(client))
    options["rpId"] = "evil.example"
    elsewhere = copy.deepcopy(ann_passkey)
    elsewhere.rp_id = "evil.example"
    response = post_json(client, VERIFY, answer_body(assertion(elsewhere, json.dumps(options))))
    assert response.status_code == 400 and SESSION_KEY not in client.session


def test_a_cloned_passkey_is_refused_and_audited(ann, ann_passkey):
    clone = copy.deepcopy(ann_passkey)
    assert sign_in(Client(), ann_passkey).status_code == 200
    other = Client()
    response = sign_in(other, clone)  # the copy's counter says 1 again
    assert response.status_code == 400 and "counter went backwards" in response.json()["error"]
    assert SESSION_KEY not in other.session
    assert WebAuthnCredential.objects.get().sign_count == 1
    assert failures(CLONED_STAGE) == ["ann@example.com"]


def test_a_challenge_is_spent_on_first_use_and_bound_to_its_session(ann, ann_passkey):
    client = Client()
    answer = assertion(ann_passkey, passkey_options(client))
    assert post_json(client, VERIFY, answer_body(answer)).status_code == 200
    # The same answer again: no challenge is waiting.
    again = Client()
    response = post_json(again, VERIFY, answer_body(answer))
    assert response.json() == {"error": NO_CHALLENGE}
    # With a new challenge waiting in that session, the old answer does not match it.
    passkey_options(again)
    response = post_json(again, VERIFY, answer_body(answer))
    assert response.status_code == 400 and "not accepted" in response.json()["error"]
    # A challenge fetched in one session cannot be answered from another.
    elsewhere, thief = Client(), Client()
    stolen = assertion(ann_passkey, passkey_options(elsewhere))
    assert post_json(thief, VERIFY, answer_body(stolen)).json() == {"error": NO_CHALLENGE}
    # And a failed answer spends the challenge too: the right one cannot follow it.
    challenge = passkey_options(elsewhere)
    wrong = assertion(ann_passkey, challenge, "https://evil.example")
    assert post_json(elsewhere, VERIFY, answer_body(wrong)).status_code == 400
    right = assertion(ann_passkey, challenge)
    assert post_json(elsewhere, VERIFY, answer_body(right)).json() == {"error": NO_CHALLENGE}
    assert AuditEntry.objects.filter(action_type="user_login").count() == 1


def test_a_disabled_user_is_refused(ann, ann_passkey, system):
    services.set_active(system, ann, False)
    client = Client()
    response = sign_in(client, ann_passkey)
    assert (response.status_code, response.json()) == (400, {"error": NOT_ACCEPTED})
    assert SESSION_KEY not in client.session
    assert failures() == ["ann@example.com"]
    assert WebAuthnCredential.objects.get().sign_count == 0  # refused before anything changed


def test_an_unknown_or_removed_passkey_is_refused(ann, ann_passkey):
    WebAuthnCredential.objects.all().delete()
    response = sign_in(Client(), ann_passkey)
    assert (response.status_code, response.json()) == (400, {"error": NOT_ACCEPTED})
    [masked] = failures()
    assert masked.startswith("unknown name #")


def test_without_user_verification_a_passkey_does_not_sign_in(ann, ann_passkey):
    ann_passkey.user_verified = False  # e.g. the PIN prompt skipped
    client = Client()
    response = sign_in(client, ann_passkey)
    assert response.status_code == 400 and "not accepted" in response.json()["error"]
    assert SESSION_KEY not in client.session


def test_the_user_handle_must_be_the_keys_own(ann, ann_passkey):
    ann_passkey.user_handle = b"someone else"
    response = sign_in(Client(), ann_passkey)
    assert response.json() == {"error": "The passkey's answer does not belong to its account."}
    client = Client()
    answer = assertion(ann_passkey, passkey_options(client))
    del answer["response"]["userHandle"]
    response = post_json(client, VERIFY, answer_body(answer))
    assert response.json() == {"error": "The passkey's answer does not belong to its account."}


def test_a_locked_pair_refuses_even_a_right_passkey(ann, ann_passkey, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login/", {"login": "ann", "password": "wrong"})
    response = sign_in(client, ann_passkey)
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert "Signing in is paused" in response.json()["error"]
    assert SESSION_KEY not in client.session
    # From another address the pair is not locked.
    elsewhere = Client(REMOTE_ADDR="10.0.0.9")
    assert sign_in(elsewhere, ann_passkey).status_code == 200


def test_an_address_over_its_budget_gets_no_challenge(ann, ann_passkey, settings):
    settings.AUTH_ADDRESS_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):  # three unknown keys from this address
        post_json(client, VERIFY, answer_body({"id": "nope"}))
    response = client.post(OPTIONS, content_type="application/json")
    assert response.status_code == 429 and response["Retry-After"]
    assert post_json(client, VERIFY, answer_body({"id": "nope"})).status_code == 429


def test_an_account_over_its_budget_is_paused_for_passkeys_too(ann, ann_passkey, settings):
    settings.AUTH_ACCOUNT_FAILURE_LIMIT = 2
    for address in ("10.0.0.1", "10.0.0.2"):
        Client(REMOTE_ADDR=address).post("/login/", {"login": "ann", "password": "wrong"})
    response = sign_in(Client(REMOTE_ADDR="10.0.0.3"), ann_passkey)
    assert response.status_code == 429


def test_wrong_passkey_answers_count_towards_the_lock_out(ann, ann_passkey, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, ann_passkey, origin="https://evil.example").status_code == 400
    # The failure that reaches the limit is answered with the lock-out, as a password's is.
    assert sign_in(client, ann_passkey, origin="https://evil.example").status_code == 429
    assert sign_in(client, ann_passkey).status_code == 429
    assert AuditEntry.objects.filter(action_type="user_locked_out").exists()


def test_ending_the_users_sessions_ends_a_passkey_session(ann, ann_passkey):
    client = Client()
    assert sign_in(client, ann_passkey).status_code == 200
    services.end_sessions(ann)
    assert client.get("/account/security/").status_code == 302


def test_under_enforcement_a_passkey_is_the_factor(ann, ann_passkey, system):
    services.set_global_2fa(system, True)
    client = Client()
    assert sign_in(client, ann_passkey, next_url="/flocks/").json() == {"redirect": "/flocks/"}
    assert client.get("/flocks/").status_code == 200


def test_a_passkey_is_also_a_second_step_after_the_password(ann, ann_passkey):
    client = Client()
    assert client.post("/login/", {"login": "ann", "password": PASSWORD}).url == "/login/verify/"
    options = client.post("/login/verify/key/options/").content
    answer = assertion(ann_passkey, options)
    assert post_json(client, "/login/verify/key/", {"credential": answer}).status_code == 200
    assert AuditEntry.objects.get(action_type="user_login").message == (
        "ann@example.com signed in (password and security key “Laptop”)"
    )


def test_a_passkey_sign_in_needs_no_totp_even_when_the_user_has_one(ann, ann_passkey):
    TOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    client = Client()
    assert sign_in(client, ann_passkey).status_code == 200
    assert client.get(f"/users/{ann.pk}/").status_code == 200


def test_removing_a_passkey_says_passkey(ann, ann_passkey):
    ann.refresh_from_db()  # adding the passkey ended her other sessions
    client = signed_in(ann, checked_now=True)
    key = WebAuthnCredential.objects.get()
    assert (
        "Remove the passkey “Laptop”?"
        in client.get(f"/account/security/keys/{key.pk}/remove/").content.decode()
    )
    client.post(f"/account/security/keys/{key.pk}/remove/")
    assert not WebAuthnCredential.objects.exists()
    entry = AuditEntry.objects.get(action_type="user_webauthn_remove")
    assert entry.message == "Removed passkey “Laptop” of ann@example.com"


def test_the_users_page_says_which_keys_are_passkeys(ann, ann_passkey, rechecked_admin):
    assert add_key(ann, PasskeyDevice(), passkey=False, name="Blue key").status_code == 200
    response = rechecked_admin.get(f"/users/{ann.pk}/")
    assert response.status_code == 200, response
    page = response.content.decode()
    assert "Security keys: Laptop (passkey), Blue key</dd>" in page


def test_a_visitors_session_for_a_challenge_is_short_and_signing_in_makes_it_full(
    ann, ann_passkey, settings
):
    client = Client()
    passkey_options(client)
    assert client.session.get_expiry_age() == settings.TWOFACTOR_PENDING_SECONDS
    # The password instead of the offered passkey: the signed-in session has the full age.
    assert client.post("/login/", {"login": "ann", "password": PASSWORD}).url == "/login/verify/"
    options = client.post("/login/verify/key/options/").content
    post_json(client, "/login/verify/key/", {"credential": assertion(ann_passkey, options)})
    assert SESSION_KEY in client.session
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE
    other = Client()
    assert sign_in(other, ann_passkey).status_code == 200
    assert other.session.get_expiry_age() == settings.SESSION_COOKIE_AGE


def test_an_address_gets_only_its_budget_of_challenges_and_session_rows(settings):
    """Every challenge gives a cookieless visitor a session row: past the address's own budget
    of challenges the answer is 429 with Retry-After and no row is made; other addresses are
    not held back, and failed sign-ins are not what it counts."""
    settings.PASSKEY_CHALLENGE_LIMIT = 5
    rows = UserSession.objects.count
    before = rows()
    answers = [
        Client().post(OPTIONS, content_type="application/json", REMOTE_ADDR="203.0.113.9")
        for _ in range(40)
    ]
    assert [r.status_code for r in answers] == [200] * 5 + [429] * 35
    assert 0 < int(answers[-1]["Retry-After"]) <= settings.PASSKEY_CHALLENGE_WINDOW
    assert "Too many passkey sign-in requests" in answers[-1].json()["error"]
    assert rows() - before == 5
    elsewhere = Client().post(OPTIONS, content_type="application/json", REMOTE_ADDR="192.0.2.4")
    assert elsewhere.status_code == 200 and rows() - before == 6
    assert not AuditEntry.objects.filter(action_type="user_login_failed").exists()
