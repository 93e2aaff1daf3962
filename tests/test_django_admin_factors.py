"""The Django admin and second factors and lock-outs (F2): no TOTP key or factor table is
reachable, resets are audited actions on the users list, read-only tables refuse every write,
and no forged inline row changes a flock."""

from __future__ import annotations

from base64 import b32encode

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin as django_admin
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import db_state

from flocks.models import DEFAULT_FLOCK_ID, Flock, FlockMembership
from users.models import AuditEntry, OrgSetting, User, WebAuthnCredential
from users.twofactor import recovery
from users.twofactor.totp_device import EncryptedTOTPDevice

pytestmark = pytest.mark.django_db


PORTAL_MODELS = {User, OrgSetting, WebAuthnCredential, AuditEntry, Flock, FlockMembership}


def test_only_the_portal_models_are_on_the_admin_site():
    """django-otp's device admins and django-axes' lock-out admins are gone (a new registration
    must be reviewed here: it must write only through the services)."""
    assert set(django_admin.site._registry) == PORTAL_MODELS


@pytest.fixture
def ann_with_factors(make_user, system) -> User:
    ann = make_user("ann@example.com")
    TOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    WebAuthnCredential.objects.create(
        user=ann, name="Blue key", credential_id="k1", public_key=b"x"
    )
    recovery.generate(system, ann)
    return ann


def test_no_totp_key_and_no_factor_or_lockout_table_is_reachable(rechecked_admin, ann_with_factors):
    device = TOTPDevice.objects.get(user=ann_with_factors)
    static = StaticDevice.objects.get(user=ann_with_factors)
    attempt = AccessAttempt.objects.create(
        username="ann@example.com",
        ip_address="127.0.0.9",
        user_agent="",
        http_accept="",
        path_info="/login/",
        get_data="",
        post_data="",
        failures_since_start=5,
    )
    failure = AccessFailureLog.objects.create(
        username="ann@example.com", user_agent="", http_accept="", path_info="/"
    )
    log = AccessLog.objects.create(
        username="ann@example.com", user_agent="", http_accept="", path_info="/"
    )
    rows = {
        "otp_totp/totpdevice": device.pk,
        "otp_static/staticdevice": static.pk,
        "otp_static/statictoken": StaticToken.objects.filter(device=static).first().pk,
        "axes/accessattempt": attempt.pk,
        "axes/accessfailurelog": failure.pk,
        "axes/accesslog": log.pk,
    }
    before = (
        db_state(),
        list(AccessAttempt.objects.values()),
        AccessFailureLog.objects.count(),
        AccessLog.objects.count(),
    )
    for table, pk in rows.items():
        base = f"/django-admin/{table}/"
        for path in (
            "",
            "add/",
            f"{pk}/change/",
            f"{pk}/delete/",
            f"{pk}/history/",
            f"{pk}/config/",
            f"{pk}/qrcode/",
        ):
            assert rechecked_admin.get(base + path).status_code == 404, base + path
        new_device = {
            "user": ann_with_factors.pk,
            "name": "planted",
            "confirmed": "on",
            "key": "31" * 20,
        }
        assert rechecked_admin.post(base + "add/", new_device).status_code == 404
        assert rechecked_admin.post(f"{base}{pk}/change/", {"confirmed": ""}).status_code == 404
        assert rechecked_admin.post(f"{base}{pk}/delete/", {"post": "yes"}).status_code == 404
    for app in ("otp_totp", "otp_static", "axes"):
        assert rechecked_admin.get(f"/django-admin/{app}/").status_code == 404
    after = (
        db_state(),
        list(AccessAttempt.objects.values()),
        AccessFailureLog.objects.count(),
        AccessLog.objects.count(),
    )
    assert after == before
    secret = EncryptedTOTPDevice.objects.get(pk=device.pk).bin_key
    secrets = [
        device.key,
        secret.hex(),
        secret.hex().upper(),
        b32encode(secret).decode().rstrip("="),
        "otpauth://",
    ]
    key = WebAuthnCredential.objects.get(user=ann_with_factors)
    pages = [reverse("admin:index"), reverse("admin:users_user_change", args=[ann_with_factors.pk])]
    pages += [reverse("admin:users_webauthncredential_change", args=[key.pk])]
    pages += [
        reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist") for m in PORTAL_MODELS
    ]
    for page in pages:
        body = rechecked_admin.get(page).content.decode()
        assert not [secret for secret in secrets if secret in body], page
    assert "otp_totp" not in rechecked_admin.get(reverse("admin:index")).content.decode()


def shown_values(response) -> dict[str, str]:
    """The read-only values of an admin change page, by field name, as rendered."""
    return {
        field.field["name"]: str(field.contents())
        for fieldset in response.context["adminform"]
        for line in fieldset
        for field in line
        if field.is_readonly
    }


def test_the_user_page_counts_second_factors_without_showing_them(
    rechecked_admin, ann_with_factors, make_user
):
    StaticToken.objects.filter(device__user=ann_with_factors).first().delete()  # one code spent
    response = rechecked_admin.get(reverse("admin:users_user_change", args=[ann_with_factors.pk]))
    assert "Second factors" in response.content.decode()
    shown = shown_values(response)
    assert 'alt="True"' in shown["authenticator_app"]
    assert (shown["security_keys"], shown["recovery_codes_left"]) == ("1", "9")
    bob = make_user("bob@example.com")
    shown = shown_values(rechecked_admin.get(reverse("admin:users_user_change", args=[bob.pk])))
    assert 'alt="False"' in shown["authenticator_app"]
    assert (shown["security_keys"], shown["recovery_codes_left"]) == ("0", "0")


def test_factor_resets_are_audited_actions_on_the_users_list(
    rechecked_admin, ann_with_factors, make_user
):
    bob = make_user("bob@example.com")
    TOTPDevice.objects.create(user=bob, name="app", confirmed=True)
    changelist = reverse("admin:users_user_changelist")
    response = rechecked_admin.post(
        changelist,
        {"action": "reset_totp", "_selected_action": [ann_with_factors.pk, bob.pk]},
        follow=True,
    )
    assert "Reset the authenticator app of 2 user(s)." in response.content.decode()
    assert not TOTPDevice.objects.filter(user__in=[ann_with_factors, bob]).exists()
    assert StaticDevice.objects.filter(
        user=ann_with_factors
    ).exists()  # her key still stands for a factor
    disabled = AuditEntry.objects.filter(action_type="user_2fa_disable").values_list(
        "target_label", flat=True
    )
    assert sorted(disabled) == ["ann@example.com", "bob@example.com"]
    response = rechecked_admin.post(
        changelist, {"action": "reset_webauthn", "_selected_action": [ann_with_factors.pk]}
    )
    assert response.status_code == 302
    assert not WebAuthnCredential.objects.filter(user=ann_with_factors).exists()
    assert not StaticDevice.objects.filter(
        user=ann_with_factors
    ).exists()  # no factor left: codes go too
    entry = AuditEntry.objects.get(action_type="user_webauthn_disable")
    assert entry.target_label == "ann@example.com" and entry.additional_information[
        "keys_removed"
    ] == ["Blue key"]


def test_read_only_tables_refuse_every_write(rechecked_admin, ann_with_factors):
    key = WebAuthnCredential.objects.get(user=ann_with_factors)
    membership = FlockMembership.objects.create(
        user=ann_with_factors, flock_id=DEFAULT_FLOCK_ID, role="watcher"
    )
    before = db_state()
    for model, pk in ((WebAuthnCredential, key.pk), (FlockMembership, membership.pk)):
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        assert rechecked_admin.get(reverse(f"{name}_add")).status_code == 403
        assert (
            rechecked_admin.post(reverse(f"{name}_add"), {"user": ann_with_factors.pk}).status_code
            == 403
        )
        assert (
            rechecked_admin.post(
                reverse(f"{name}_change", args=[pk]), {"name": "x", "role": "manager"}
            ).status_code
            == 403
        )
        assert (
            rechecked_admin.post(reverse(f"{name}_delete", args=[pk]), {"post": "yes"}).status_code
            == 403
        )
        changelist = reverse(f"{name}_changelist")
        response = rechecked_admin.post(
            changelist, {"action": "delete_selected", "_selected_action": [pk], "post": "yes"}
        )
        assert response.status_code in (200, 302)
    assert db_state() == before


def test_a_forged_membership_row_in_a_flock_change_changes_nothing(rechecked_admin, make_user):
    ann, bob = make_user("ann@example.com"), make_user("bob@example.com")
    flock = Flock.objects.create(name="Lagos")
    membership = FlockMembership.objects.create(user=ann, flock=flock, role="manager")
    response = rechecked_admin.post(
        reverse("admin:flocks_flock_change", args=[flock.pk]),
        {
            "name": "Lagos",
            "note": "",
            "memberships-TOTAL_FORMS": "2",
            "memberships-INITIAL_FORMS": "1",
            "memberships-0-id": membership.pk,
            "memberships-0-flock": flock.pk,
            "memberships-0-user": bob.pk,
            "memberships-0-role": "watcher",
            "memberships-0-DELETE": "on",
            "memberships-1-flock": flock.pk,
            "memberships-1-user": bob.pk,
            "memberships-1-role": "manager",
        },
    )
    assert response.status_code == 302
    assert list(FlockMembership.objects.values_list("user_id", "flock_id", "role")) == [
        (ann.pk, flock.pk, "manager")
    ]
