"""TOTP secrets are encrypted at rest: enrolment, sign-in, the data migration, key rotation,
tampering."""

from __future__ import annotations

import binascii
import importlib
import io
import logging
import time
from base64 import b32decode

import pytest
from axes.utils import reset as axes_reset
from django.apps import apps
from django.contrib.auth import SESSION_KEY
from django.core.management import CommandError, call_command
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import PASSWORD

from users.models import AuditEntry, User
from users.twofactor.totp_device import EncryptedTOTPDevice

pytestmark = pytest.mark.django_db

OLD_KEY = "the old secret key, long enough to be a real one: 7f1d2c9b8a"
NEW_KEY = "the new secret key after the rotation, also long: 3e5a7c9d1b"
migration = importlib.import_module("users.migrations.0004_encrypt_totp_keys")


@pytest.fixture(autouse=True)
def _no_code_delays(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # these tests are about the keys, not django-otp's delays


def stored_key(device: TOTPDevice) -> str:
    return TOTPDevice.objects.values_list("key", flat=True).get(pk=device.pk)


def code_from(secret: bytes, steps_ahead: int = 0) -> str:
    """What an authenticator app holding ``secret`` shows (computed apart from the
    portal's model)."""
    totp = TOTP(secret)
    totp.time = time.time() + steps_ahead * 30
    return f"{totp.token():06d}"


def sign_in_with_code(login: str, code: str) -> tuple[Client, object]:
    """The sign-in pages: password, then the code; returns the client and the code page's answer."""
    client = Client()
    response = client.post("/login/", {"login": login, "password": PASSWORD})
    assert (response.status_code, response.url) == (302, "/login/verify/")
    return client, client.post("/login/verify/", {"action": "code", "code": code})


def assert_signed_in(client: Client, response, user: User) -> None:
    assert (response.status_code, response.url) == (302, "/")
    assert client.session[SESSION_KEY] == str(user.pk)


def assert_refused(client: Client, response) -> None:
    assert response.status_code == 200
    assert "That code is not valid" in response.content.decode()
    assert SESSION_KEY not in client.session


def enrol_from_page(user: User) -> tuple[bytes, EncryptedTOTPDevice]:
    """Enrol the way a person does: read the secret off the setup page, confirm with the
    app's code."""
    client = Client()
    assert client.post("/login/", {"login": user.username, "password": PASSWORD}).status_code == 302
    page = client.get("/account/security/totp/")
    assert page.status_code == 200
    typed = (
        page.content.decode().split('data-testid="totp-secret">')[1].split("<")[0].replace(" ", "")
    )
    secret = b32decode(typed + "=" * (-len(typed) % 8))
    response = client.post("/account/security/totp/", {"code": code_from(secret)})
    assert (response.status_code, response.url) == (302, "/account/security/recovery-codes/")
    return secret, EncryptedTOTPDevice.objects.get(user=user, confirmed=True)


def test_the_stored_key_is_ciphertext_and_enrolment_and_sign_in_work(ann):
    secret, device = enrol_from_page(ann)
    key = stored_key(device)
    assert key.startswith("enc1:") and len(key) <= 80
    assert secret.hex() not in key.lower()
    with pytest.raises(binascii.Error):
        binascii.unhexlify(key)
    with pytest.raises(binascii.Error):
        TOTPDevice.objects.get(pk=device.pk).bin_key  # django-otp's own model cannot read it
    assert device.bin_key == secret

    client, response = sign_in_with_code("ann@example.com", code_from(secret, steps_ahead=1))
    assert_signed_in(client, response, ann)
    # django-otp remembers the device by the proxy's persistent id, and its middleware loads it
    # again.
    assert client.session[DEVICE_ID_SESSION_KEY] == f"users.encryptedtotpdevice/{device.pk}"
    page = client.get("/account/security/")
    assert page.status_code == 200 and page.wsgi_request.user.otp_device == device


def test_each_save_of_a_clear_key_seals_it_with_a_fresh_nonce(ann, bob):
    first = TOTPDevice.objects.create(user=ann, name="app", key="00" * 20)  # django-otp's own model
    second = EncryptedTOTPDevice.objects.create(user=bob, name="app", key="00" * 20)
    assert stored_key(first).startswith("enc1:") and stored_key(second).startswith("enc1:")
    assert stored_key(first) != stored_key(second)
    assert EncryptedTOTPDevice.objects.get(pk=first.pk).bin_key == bytes(20) == second.bin_key


def test_migration_encrypts_clear_hex_keys_and_reverses(ann):
    device = EncryptedTOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    secret = device.bin_key
    TOTPDevice.objects.filter(pk=device.pk).update(
        key=secret.hex()
    )  # a row from before the migration

    client, response = sign_in_with_code("ann", code_from(secret))
    assert_refused(client, response)  # a key in clear is not trusted

    migration.encrypt_plain_keys(apps, None)
    key = stored_key(device)
    assert key.startswith("enc1:") and secret.hex() not in key
    client, response = sign_in_with_code("ann", code_from(secret))
    assert_signed_in(client, response, ann)

    migration.encrypt_plain_keys(apps, None)  # a second run leaves sealed keys alone
    assert stored_key(device) == key
    migration.decrypt_keys(apps, None)
    assert stored_key(device) == secret.hex()


def test_reencrypt_command_after_a_secret_key_change(ann, bob, settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    device = EncryptedTOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    EncryptedTOTPDevice.objects.create(user=bob, name="app", confirmed=True)
    secret, old_key = device.bin_key, stored_key(device)

    settings.SECRET_KEY = NEW_KEY
    client, response = sign_in_with_code("ann", code_from(secret))
    assert_refused(client, response)  # the new key alone cannot read it
    settings.SECRET_KEY_FALLBACKS = [OLD_KEY]
    client, response = sign_in_with_code("ann", code_from(secret))
    assert_signed_in(client, response, ann)  # the old key in the fallbacks keeps sign-in working

    call_command("reencrypt_totp_keys", stdout=(out := io.StringIO()))
    assert out.getvalue() == (
        "Re-encrypted 2 authenticator-app secret(s); 0 were already under the current key; 0 "
        "could not be decrypted.\n"
    )
    assert stored_key(device) not in (old_key, secret.hex())
    entry = AuditEntry.objects.get(action_type="totp_keys_reencrypt")
    assert entry.actor_id is None and entry.actor_label == "manage.py reencrypt_totp_keys"
    assert entry.additional_information == {"reencrypted": 2, "current": 0, "unreadable": 0}

    settings.SECRET_KEY_FALLBACKS = []  # the old key is gone for good
    client, response = sign_in_with_code("ann", code_from(secret, steps_ahead=1))
    assert_signed_in(client, response, ann)

    call_command("reencrypt_totp_keys", stdout=(out := io.StringIO()))
    assert out.getvalue().startswith(
        "Re-encrypted 0 authenticator-app secret(s); 2 were already under the current key;"
    )


def test_reencrypt_command_names_keys_no_configured_key_opens(ann, bob, settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    lost = EncryptedTOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    settings.SECRET_KEY = NEW_KEY
    EncryptedTOTPDevice.objects.create(user=bob, name="app", confirmed=True)
    with pytest.raises(CommandError, match=rf"device {lost.pk} of ann@example.com\. Put the key"):
        call_command("reencrypt_totp_keys", stdout=io.StringIO())
    assert AuditEntry.objects.get(action_type="totp_keys_reencrypt").additional_information == {
        "reencrypted": 0,
        "current": 1,
        "unreadable": 1,
    }


def test_a_ciphertext_moved_to_another_users_device_does_not_verify(ann, bob, caplog):
    bob.set_password(PASSWORD)  # he signs in too
    bob.save(update_fields=["password"])
    ann_device = EncryptedTOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    bob_device = EncryptedTOTPDevice.objects.create(user=bob, name="app", confirmed=True)
    secret = ann_device.bin_key
    TOTPDevice.objects.filter(pk=bob_device.pk).update(key=stored_key(ann_device))

    with caplog.at_level(logging.WARNING, logger="users.twofactor.totp_device"):
        client, response = sign_in_with_code(bob.username, code_from(secret))
    assert_refused(client, response)
    assert (
        f"TOTP device {bob_device.pk} of user {bob.pk}: the stored key cannot be decrypted"
        in caplog.text
    )
    assert secret.hex() not in caplog.text and stored_key(ann_device) not in caplog.text

    client, response = sign_in_with_code("ann", code_from(secret))
    assert_signed_in(client, response, ann)  # in its own row it still opens


def _tampered(key: str) -> list[str]:
    last = "A" if key[-1] != "A" else "B"
    return [key[:-1] + last, key[:20], "enc1:", "enc1:%%%%", "enc1:" + "A" * 64, "not hex at all"]


def test_a_tampered_ciphertext_verifies_nothing_and_breaks_no_page(ann):
    device = EncryptedTOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    secret, key = device.bin_key, stored_key(device)
    for bad in _tampered(key):
        TOTPDevice.objects.filter(pk=device.pk).update(key=bad)
        client, response = sign_in_with_code("ann", code_from(secret))
        assert_refused(client, response)
        # each refusal counts towards the sign-in lock-out; this test is not about that
        axes_reset()
    # A signed-in user whose stored key is damaged still gets their Security page.
    TOTPDevice.objects.filter(pk=device.pk).update(key=key)
    client, response = sign_in_with_code("ann", code_from(secret))
    assert_signed_in(client, response, ann)
    TOTPDevice.objects.filter(pk=device.pk).update(key=key[:-1] + ("A" if key[-1] != "A" else "B"))
    assert client.get("/account/security/").status_code == 200


def test_a_pending_setup_whose_key_no_longer_opens_is_replaced(ann, settings):
    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = OLD_KEY, []
    client = Client()
    assert client.post("/login/", {"login": "ann", "password": PASSWORD}).status_code == 302
    assert client.get("/account/security/totp/").status_code == 200
    stale = TOTPDevice.objects.get(user=ann, confirmed=False)

    settings.SECRET_KEY = NEW_KEY
    client = Client()
    assert client.post("/login/", {"login": "ann", "password": PASSWORD}).status_code == 302
    assert client.get("/account/security/totp/").status_code == 200
    fresh = EncryptedTOTPDevice.objects.get(user=ann, confirmed=False)
    assert fresh.pk != stale.pk and fresh.has_readable_key()
