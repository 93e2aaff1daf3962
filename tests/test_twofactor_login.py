"""Sign-in: password, then a real TOTP code or recovery code; throttling and audit."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from helpers import PASSWORD, fresh_totp_code, totp_code

from users import services
from users.models import AuditEntry, User
from users.twofactor import recovery
from users.twofactor.totp_device import EncryptedTOTPDevice

pytestmark = pytest.mark.django_db


@pytest.fixture
def ann_totp(ann) -> EncryptedTOTPDevice:
    return EncryptedTOTPDevice.objects.create(user=ann, name="app", confirmed=True)


def sign_in(client: Client, login: str, password: str = PASSWORD, **extra):
    return client.post("/login/", {"login": login, "password": password, **extra})


def actions() -> list[str]:
    return list(AuditEntry.objects.order_by("id").values_list("action_type", flat=True))


def test_password_only_sign_in_by_name_or_email(client, ann):
    response = sign_in(client, "ann@example.com")
    assert response.status_code == 302 and response.url == "/"
    assert client.session[SESSION_KEY] == str(ann.pk)
    entry = AuditEntry.objects.get(action_type="user_login")
    assert (
        entry.actor_id == ann.pk
        and entry.user_ip == "127.0.0.1"
        and entry.message == "ann@example.com signed in (password)"
    )

    other = Client()
    assert sign_in(other, "ann").status_code == 302
    assert other.session[SESSION_KEY] == str(ann.pk)


def test_wrong_password_and_disabled_user_are_refused(client, ann, system):
    response = sign_in(client, "ann", "wrong password")
    assert response.status_code == 200
    assert "Wrong user name or password" in response.content.decode()
    assert SESSION_KEY not in client.session
    failed = AuditEntry.objects.get(action_type="user_login_failed")
    assert failed.actor_label == "ann"
    assert failed.additional_information == {"stage": "password", "reason": "wrong password"}
    assert failed.target_label == "ann@example.com"  # the resolved account

    services.set_active(system, ann, False)
    response = sign_in(client, "ann")
    assert response.status_code == 200 and SESSION_KEY not in client.session


def test_unsafe_next_is_ignored(client, ann):
    assert sign_in(client, "ann", next="https://evil.example/").url == "/"
    client.post("/logout/")
    assert sign_in(client, "ann", next="/account/security/").url == "/account/security/"


def test_totp_user_is_not_signed_in_until_the_code(client, ann, ann_totp):
    response = sign_in(client, "ann", next="/account/security/")
    assert response.status_code == 302 and response.url == "/login/verify/"
    assert SESSION_KEY not in client.session
    # Half signed in reaches nothing else.
    assert client.get("/account/security/").url.startswith("/login/")
    page = client.get("/login/verify/")
    assert page.status_code == 200 and "Authenticator app" in page.content.decode()

    response = client.post("/login/verify/", {"action": "code", "code": totp_code(ann_totp)})
    assert response.status_code == 302 and response.url == "/account/security/"
    assert client.session[SESSION_KEY] == str(ann.pk)
    assert client.session["twofactor_verified"] == "authenticator app"
    assert (
        AuditEntry.objects.get(action_type="user_login").message
        == "ann@example.com signed in (password and authenticator app)"
    )


def test_wrong_and_replayed_codes_are_refused(client, ann, ann_totp, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # this test is about validity, not delays
    sign_in(client, "ann")
    code = totp_code(ann_totp)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    response = client.post("/login/verify/", {"action": "code", "code": wrong})
    assert response.status_code == 200 and "That code is not valid" in response.content.decode()
    assert SESSION_KEY not in client.session
    assert client.post("/login/verify/", {"action": "code", "code": code}).status_code == 302

    other = Client()
    sign_in(other, "ann")
    response = other.post("/login/verify/", {"action": "code", "code": code})
    assert response.status_code == 200 and SESSION_KEY not in other.session
    assert actions().count("user_login_failed") == 2


def test_wrong_codes_are_throttled_by_django_otp(client, ann, ann_totp, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 60  # a minute's wait after the first wrong code
    sign_in(client, "ann")
    good = totp_code(ann_totp)
    client.post("/login/verify/", {"action": "code", "code": f"{(int(good) + 1) % 1_000_000:06d}"})
    response = client.post("/login/verify/", {"action": "code", "code": good})
    assert response.status_code == 200 and "Too many wrong codes. Wait" in response.content.decode()
    assert SESSION_KEY not in client.session


def test_password_failures_lock_the_account_from_this_address(client, ann, settings):
    """The (account, address) pair locks; the account and the address alone have budgets
    of their own, well above it (tests/test_auth_budgets.py)."""
    settings.AXES_FAILURE_LIMIT = 3
    for _ in range(2):
        assert sign_in(client, "ann", "nope").status_code == 200
    response = sign_in(client, "ann", "nope")
    assert response.status_code == 429
    assert "Too many failed sign-in attempts" in response.content.decode()
    assert response["Retry-After"] == str(15 * 60)
    # The right password does not help now, from this address …
    assert sign_in(client, "ann").status_code == 429
    # … but the owner elsewhere is not locked out by it,
    assert sign_in(Client(REMOTE_ADDR="10.0.0.9"), "ann").status_code == 302
    # nor is another account at the same address.
    User.objects.create_user("bob", "bob@example.com", PASSWORD)
    assert sign_in(client, "bob").status_code == 302
    assert "user_locked_out" in actions()


def test_failures_count_the_same_for_name_and_email(ann, settings):
    settings.AXES_FAILURE_LIMIT = 2
    sign_in(Client(REMOTE_ADDR="10.0.0.1"), "ann", "nope")
    assert sign_in(Client(REMOTE_ADDR="10.0.0.1"), "ANN@example.com", "nope").status_code == 429
    assert sign_in(Client(REMOTE_ADDR="10.0.0.1"), "ann@EXAMPLE.com").status_code == 429


def test_wrong_second_factor_codes_lock_out_too(client, ann, ann_totp, settings):
    settings.AXES_FAILURE_LIMIT = 3
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    sign_in(client, "ann")
    wrong = f"{(int(totp_code(ann_totp)) + 500_000) % 1_000_000:06d}"
    for _ in range(2):
        assert client.post("/login/verify/", {"action": "code", "code": wrong}).status_code == 200
    assert client.post("/login/verify/", {"action": "code", "code": wrong}).status_code == 429
    # The half-finished sign-in is gone; the password step is locked as well.
    assert client.get("/login/verify/").url == "/login/"
    assert sign_in(client, "ann").status_code == 429


def test_recovery_code_signs_in_once(client, ann, ann_totp, system):
    codes = recovery.generate(system, ann)
    sign_in(client, "ann")
    response = client.post("/login/verify/", {"action": "code", "code": codes[0].upper()})
    assert response.status_code == 302 and client.session["twofactor_verified"] == "recovery code"
    assert recovery.remaining(ann) == 9

    other = Client()
    sign_in(other, "ann")
    assert other.post("/login/verify/", {"action": "code", "code": codes[0]}).status_code == 200
    assert SESSION_KEY not in other.session
    assert AuditEntry.objects.filter(action_type="user_recovery_code_use").count() == 1


def test_recovery_codes_are_stored_as_keyed_hashes(ann, system):
    codes = recovery.generate(system, ann)
    stored = set(ann.staticdevice_set.get().token_set.values_list("token", flat=True))
    assert len(codes) == len(set(codes)) == 10 and len(stored) == 10
    assert not stored & {c.replace("-", "") for c in codes} and not stored & set(codes)


def test_the_second_step_expires(client, ann, ann_totp, settings):
    sign_in(client, "ann")
    settings.TWOFACTOR_PENDING_SECONDS = -1
    response = client.post("/login/verify/", {"action": "code", "code": totp_code(ann_totp)})
    assert response.url == "/login/" and SESSION_KEY not in client.session


def test_sign_out_is_post_only_and_audited(client, ann):
    sign_in(client, "ann")
    assert client.get("/logout/").status_code == 405
    response = client.post("/logout/")
    assert response.status_code == 302 and response.url == "/login/"
    assert SESSION_KEY not in client.session
    assert actions()[-1] == "user_logout"


def test_disabling_a_user_ends_their_sessions(client, ann, v1):
    sign_in(client, "ann")
    assert client.get("/account/security/").status_code == 200
    assert v1.post("user/disable", email="ann@example.com").status_code == 200
    assert client.get("/account/security/").url.startswith("/login/")


def test_code_for_the_next_login_helper_skips_spent_steps(ann_totp):
    assert ann_totp.verify_token(fresh_totp_code(ann_totp))
    assert ann_totp.verify_token(fresh_totp_code(ann_totp))


def test_stored_failed_attempts_hold_no_codes_or_passwords(client, ann, ann_totp):
    from axes.models import AccessAttempt

    client.post("/login/", {"login": "ann", "password": "secret guess"})
    sign_in(client, "ann")
    client.post("/login/verify/", {"action": "code", "code": "13572468"})
    post_data = "".join(AccessAttempt.objects.values_list("post_data", flat=True))
    assert (
        "secret guess" not in post_data and "13572468" not in post_data and "ann" not in post_data
    )
