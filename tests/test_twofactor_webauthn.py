"""Security keys with a real software authenticator (soft-webauthn): no verification is mocked."""

from __future__ import annotations

import copy
import json

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from helpers import ORIGIN, PASSWORD, assertion, attestation, post_json
from soft_webauthn import SoftWebauthnDevice

from users.models import AuditEntry, User, WebAuthnCredential

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _relying_party(settings):
    settings.WEBAUTHN_ORIGIN = ORIGIN
    settings.WEBAUTHN_RP_ID = "localhost"


@pytest.fixture
def ann_client(ann) -> Client:
    client = Client()
    client.post("/login/", {"login": "ann", "password": PASSWORD})
    return client


def register(client: Client, device: SoftWebauthnDevice, name: str = "Blue key", **kwargs):
    options = client.post("/account/security/keys/options/", content_type="application/json")
    assert options.status_code == 200, options.content
    credential = attestation(device, options.content, **kwargs)
    return post_json(client, "/account/security/keys/", {"name": name, "credential": credential})


@pytest.fixture
def ann_key(ann_client) -> SoftWebauthnDevice:
    device = SoftWebauthnDevice()
    assert register(ann_client, device).status_code == 200
    return device


def start_key_sign_in(client: Client) -> bytes:
    assert client.post("/login/", {"login": "ann", "password": PASSWORD}).url == "/login/verify/"
    options = client.post("/login/verify/key/options/")
    assert options.status_code == 200
    return options.content


def test_register_a_key_and_get_recovery_codes(ann_client, ann):
    device = SoftWebauthnDevice()
    response = register(ann_client, device)
    assert response.status_code == 200 and response.json() == {
        "redirect": "/account/security/recovery-codes/"
    }
    key = WebAuthnCredential.objects.get(user=ann)
    assert key.name == "Blue key" and key.sign_count == 0 and key.transports == ["usb"]
    assert AuditEntry.objects.filter(action_type="user_webauthn_add").exists()
    # The next registration excludes the key already there.
    options = json.loads(ann_client.post("/account/security/keys/options/").content)
    assert [c["id"] for c in options["excludeCredentials"]] == [key.credential_id]
    assert options["rp"] == {"id": "localhost", "name": "Portal"}
    assert options["authenticatorSelection"]["userVerification"] == "preferred"


def test_registration_from_the_wrong_origin_or_rp_is_refused(ann_client, ann):
    response = register(ann_client, SoftWebauthnDevice(), origin="http://localhost:9999")
    assert response.status_code == 400 and "not accepted" in response.json()["error"]

    options = json.loads(ann_client.post("/account/security/keys/options/").content)
    options["rp"]["id"] = "evil.example"
    credential = attestation(SoftWebauthnDevice(), json.dumps(options))
    response = post_json(
        ann_client, "/account/security/keys/", {"name": "k", "credential": credential}
    )
    assert response.status_code == 400
    assert not WebAuthnCredential.objects.exists()


def test_registration_without_a_name_or_challenge_is_refused(ann_client):
    device = SoftWebauthnDevice()
    response = register(ann_client, device, name="  ")
    assert response.status_code == 400 and response.json() == {
        "error": "Give the key a name, e.g. “Blue YubiKey”."
    }
    response = post_json(
        ann_client, "/account/security/keys/", {"name": "k", "credential": {"id": "x"}}
    )
    assert response.json() == {"error": "No security key request is in progress. Start again."}
    response = ann_client.post("/account/security/keys/", "[1", content_type="application/json")
    assert response.status_code == 400 and response.json() == {
        "error": "The request body is not valid JSON."
    }
    assert not WebAuthnCredential.objects.exists()


def test_sign_in_with_a_key(ann, ann_key):
    client = Client()
    options = start_key_sign_in(client)
    response = post_json(client, "/login/verify/key/", {"credential": assertion(ann_key, options)})
    assert response.status_code == 200 and response.json() == {"redirect": "/"}
    assert client.session[SESSION_KEY] == str(ann.pk)
    key = WebAuthnCredential.objects.get()
    assert key.sign_count == 1 and key.last_used is not None
    assert (
        AuditEntry.objects.filter(action_type="user_login")
        .first()
        .message.endswith("security key “Blue key”)")
    )


def test_wrong_origin_and_wrong_rp_id_are_refused_at_sign_in(ann, ann_key):
    client = Client()
    options = start_key_sign_in(client)
    response = post_json(
        client,
        "/login/verify/key/",
        {"credential": assertion(ann_key, options, "https://evil.example")},
    )
    assert response.status_code == 400 and SESSION_KEY not in client.session

    options = json.loads(client.post("/login/verify/key/options/").content)
    options["rpId"] = "evil.example"
    other_rp = copy.deepcopy(ann_key)
    other_rp.rp_id = "evil.example"
    response = post_json(
        client, "/login/verify/key/", {"credential": assertion(other_rp, json.dumps(options))}
    )
    assert response.status_code == 400 and SESSION_KEY not in client.session
    assert (
        AuditEntry.objects.filter(
            action_type="user_login_failed", additional_information__stage="security key"
        ).count()
        == 2
    )


def test_a_replayed_answer_is_refused(ann, ann_key):
    client = Client()
    options = start_key_sign_in(client)
    answer = assertion(ann_key, options)
    assert post_json(client, "/login/verify/key/", {"credential": answer}).status_code == 200
    # The same answer again, in a new sign-in: its challenge was spent.
    again = Client()
    start_key_sign_in(again)
    response = post_json(again, "/login/verify/key/", {"credential": answer})
    assert response.status_code == 400 and SESSION_KEY not in again.session
    # And without asking for a new challenge at all.
    response = post_json(again, "/login/verify/key/", {"credential": answer})
    assert response.json()["error"] == "No security key request is in progress. Start again."


def test_a_cloned_key_is_refused(ann, ann_key):
    clone = copy.deepcopy(ann_key)
    client = Client()
    assert (
        post_json(
            client,
            "/login/verify/key/",
            {"credential": assertion(ann_key, start_key_sign_in(client))},
        ).status_code
        == 200
    )
    other = Client()
    response = post_json(
        other, "/login/verify/key/", {"credential": assertion(clone, start_key_sign_in(other))}
    )
    assert response.status_code == 400 and "counter went backwards" in response.json()["error"]
    assert SESSION_KEY not in other.session
    assert WebAuthnCredential.objects.get().sign_count == 1


def test_another_users_key_is_refused(ann, ann_key):
    bob = User.objects.create_user("bob", "bob@example.com", PASSWORD)
    bob_client = Client()
    bob_client.post("/login/", {"login": "bob", "password": PASSWORD})
    assert register(bob_client, SoftWebauthnDevice(), name="Bob's").status_code == 200
    client = Client()
    options = start_key_sign_in(client)  # ann signs in, bob's key answers
    bob_device = SoftWebauthnDevice()
    bob_device.cred_init("localhost", b"x")
    response = post_json(
        client, "/login/verify/key/", {"credential": assertion(bob_device, options)}
    )
    assert response.json() == {"error": "This security key is not registered to your account."}
    assert bob.webauthn_credentials.count() == 1


def test_rename_and_remove_a_key(ann_client, ann, ann_key):
    key = WebAuthnCredential.objects.get()
    assert (
        ann_client.post(f"/account/security/keys/{key.pk}/rename/", {"name": ""}).status_code == 200
    )
    assert (
        ann_client.post(f"/account/security/keys/{key.pk}/rename/", {"name": "Spare"}).url
        == "/account/security/"
    )
    assert WebAuthnCredential.objects.get().name == "Spare"
    page = ann_client.get("/account/security/").content.decode()
    assert "Spare" in page and ">never<" in page  # not used yet (the "when" filter)
    assert ann_client.post(f"/account/security/keys/{key.pk}/remove/").url == "/account/security/"
    assert not WebAuthnCredential.objects.exists()
    assert [
        e for e in AuditEntry.objects.values_list("action_type", flat=True) if "webauthn" in e
    ] == [
        "user_webauthn_remove",
        "user_webauthn_rename",
        "user_webauthn_add",
    ]


def test_someone_elses_key_cannot_be_touched(ann_key):
    key = WebAuthnCredential.objects.get()
    User.objects.create_user("bob", "bob@example.com", PASSWORD)
    bob = Client()
    bob.post("/login/", {"login": "bob", "password": PASSWORD})
    assert bob.post(f"/account/security/keys/{key.pk}/remove/").status_code == 404
    assert WebAuthnCredential.objects.exists()


def test_admin_reset_of_keys_through_v1(ann, ann_key, v1):
    response = v1.post("user/webauthn/disable", email="ann@example.com")
    assert response.status_code == 200
    assert not WebAuthnCredential.objects.exists()
    client = Client()
    assert client.post("/login/", {"login": "ann", "password": PASSWORD}).url == "/"


def test_stale_session_gets_sent_to_confirm_before_adding_a_key(ann_client):
    session = ann_client.session
    session["twofactor_checked_at"] = 0
    session.save()
    response = ann_client.post(
        "/account/security/keys/options/",
        content_type="application/json",
        headers={"X-Return-To": "/account/security/"},
    )
    assert response.status_code == 401
    assert response.json() == {
        "error": "Please confirm it is you first.",
        "redirect": "/account/reauth/?next=/account/security/",
    }
