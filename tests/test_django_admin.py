"""The Django admin site: every model registered, changes with rules go through the services."""

from __future__ import annotations

from base64 import b32encode

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin as django_admin
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import db_state, signed_in

from flocks.models import DEFAULT_FLOCK_ID, Flock, FlockMembership
from users import services
from users.models import AuditEntry, OrgSetting, User, WebAuthnCredential
from users.twofactor import recovery
from users.twofactor.totp_device import EncryptedTOTPDevice

pytestmark = pytest.mark.django_db


def user_form(user: User, **changes) -> dict:
    data = {"access_level": user.access_level, "note": user.note}
    data.update({"is_active": "on"} if user.is_active else {})
    data.update({"summary_email_enabled": "on"} if user.summary_email_enabled else {})
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def test_every_model_has_a_working_changelist(rechecked_admin, make_user):
    user = make_user("ann@example.com")
    WebAuthnCredential.objects.create(user=user, name="Key", credential_id="k", public_key=b"x")
    FlockMembership.objects.create(user=user, flock_id=DEFAULT_FLOCK_ID, role="watcher")
    OrgSetting.load()
    for model in (User, OrgSetting, WebAuthnCredential, AuditEntry, Flock, FlockMembership):
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = rechecked_admin.get(url, {"q": "ann"} if model is not OrgSetting else {})
        assert response.status_code == 200, model
    assert rechecked_admin.get(reverse("admin:users_user_change", args=[user.pk])).status_code == 200
    assert rechecked_admin.get(reverse("admin:flocks_flock_change", args=[DEFAULT_FLOCK_ID])).status_code == 200


def test_users_and_visitors_are_kept_out(client, make_user):
    url = reverse("admin:users_user_changelist")
    assert client.get(url).status_code == 302
    assert signed_in(make_user("ann@example.com")).get(url).status_code == 302


def test_add_user_goes_through_the_service(rechecked_admin, sent_mail):
    response = rechecked_admin.post(
        reverse("admin:users_user_add"),
        {"email": "New@Example.com", "access_level": "user", "note": "", "send_welcome_mail": "on"},
    )
    assert response.status_code == 302
    user = User.objects.get(email="new@example.com")
    assert user.username == "new@example.com" and not user.has_usable_password()
    assert AuditEntry.objects.filter(action_type="user_add", target_label="new@example.com").count() == 1
    assert [m.to for m in sent_mail()] == [["new@example.com"]]


def test_change_form_audits_each_change(rechecked_admin, make_user):
    user = make_user("ann@example.com")
    url = reverse("admin:users_user_change", args=[user.pk])
    response = rechecked_admin.post(url, user_form(user, access_level="admin", note="promoted", is_active=None))
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.access_level, user.note, user.is_active) == ("admin", "promoted", False)
    actions = set(AuditEntry.objects.filter(target_label=user.label).values_list("action_type", flat=True))
    assert {"user_access_level_change", "user_note_add", "user_disable"} <= actions


def test_change_form_refuses_disabling_the_last_admin(rechecked_admin, admin):
    before = AuditEntry.objects.count()
    url = reverse("admin:users_user_change", args=[admin.pk])
    response = rechecked_admin.post(url, user_form(admin, is_active=None, note="changed"), follow=True)
    assert "Cannot disable the last active admin." in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active and admin.note == ""
    assert AuditEntry.objects.count() == before


def test_disable_and_enable_actions_use_the_service(rechecked_admin, admin, make_user):
    ann, bob = make_user("ann@example.com"), make_user("bob@example.com")
    changelist = reverse("admin:users_user_changelist")
    rechecked_admin.post(changelist, {"action": "disable_users", "_selected_action": [ann.pk, bob.pk]})
    assert not User.objects.filter(pk__in=[ann.pk, bob.pk], is_active=True).exists()
    assert AuditEntry.objects.filter(action_type="user_disable").count() == 2
    rechecked_admin.post(changelist, {"action": "enable_users", "_selected_action": [ann.pk]})
    assert User.objects.get(pk=ann.pk).is_active
    response = rechecked_admin.post(
        changelist, {"action": "disable_users", "_selected_action": [bob.pk, admin.pk]}, follow=True
    )
    assert "Cannot disable the last active admin. Nothing was changed." in response.content.decode()
    assert User.objects.get(pk=admin.pk).is_active


def test_the_last_admin_cannot_be_deleted(rechecked_admin, admin, make_user):
    ann = make_user("ann@example.com")
    changelist = reverse("admin:users_user_changelist")
    response = rechecked_admin.post(
        changelist, {"action": "remove_users", "_selected_action": [ann.pk, admin.pk]}, follow=True
    )
    assert "Cannot remove the last active admin. Nothing was removed." in response.content.decode()
    assert User.objects.filter(pk__in=[ann.pk, admin.pk]).count() == 2
    response = rechecked_admin.post(reverse("admin:users_user_delete", args=[admin.pk]), {"post": "yes"}, follow=True)
    assert "Cannot remove the last active admin." in response.content.decode()
    assert User.objects.filter(pk=admin.pk).exists()
    rechecked_admin.post(reverse("admin:users_user_delete", args=[ann.pk]), {"post": "yes"})
    assert not User.objects.filter(pk=ann.pk).exists()
    assert AuditEntry.objects.filter(action_type="user_remove", target_label="ann@example.com").exists()
    assert "delete_selected" not in rechecked_admin.get(changelist).content.decode()


def test_audit_log_is_read_only(rechecked_admin, admin, system):
    services.set_note(system, admin, "original")
    entry = AuditEntry.objects.get()
    assert rechecked_admin.get(reverse("admin:users_auditentry_add")).status_code == 403
    rechecked_admin.post(reverse("admin:users_auditentry_change", args=[entry.pk]), {"message": "forged"})
    rechecked_admin.post(reverse("admin:users_auditentry_delete", args=[entry.pk]), {"post": "yes"})
    entry.refresh_from_db()
    assert entry.message == "Set the note of admin@example.com"


def test_org_setting_switch_is_audited(rechecked_admin):
    org = OrgSetting.load()
    rechecked_admin.post(reverse("admin:users_orgsetting_change", args=[org.pk]), {"globally_enforce_2fa": "on"})
    assert OrgSetting.load().globally_enforce_2fa
    assert AuditEntry.objects.filter(action_type="globally_enforce_2fa_enable").count() == 1


def test_flocks_through_the_services(rechecked_admin):
    response = rechecked_admin.post(reverse("admin:flocks_flock_add"), {"name": "Lagos", "note": ""})
    flock = Flock.objects.get(name="Lagos")
    assert response.status_code == 302  # no membership formsets on the add page to trip over
    inline = {"memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
    response = rechecked_admin.post(
        reverse("admin:flocks_flock_change", args=[flock.pk]), {"name": "Lagos HQ", "note": "west", **inline}
    )
    assert response.status_code == 302
    rechecked_admin.post(reverse("admin:flocks_flock_delete", args=[flock.pk]), {"post": "yes"})
    assert not Flock.objects.filter(pk=flock.pk).exists()
    actions = list(AuditEntry.objects.filter(flock_id=flock.pk).values_list("action_type", flat=True))
    assert actions == ["flock_delete", "flock_note_add", "flock_rename", "flock_create"]
    assert (
        rechecked_admin.post(reverse("admin:flocks_flock_delete", args=[DEFAULT_FLOCK_ID]), {"post": "yes"}).status_code
        == 403
    )
    assert Flock.objects.filter(pk=DEFAULT_FLOCK_ID).exists()


# --- second factors and lock-outs: nothing behind the services (F2) ------------------------

PORTAL_MODELS = {User, OrgSetting, WebAuthnCredential, AuditEntry, Flock, FlockMembership}


def test_only_the_portal_models_are_on_the_admin_site():
    """django-otp's device admins and django-axes' lock-out admins are gone (a new registration
    must be reviewed here: it must write only through the services)."""
    assert set(django_admin.site._registry) == PORTAL_MODELS


@pytest.fixture
def ann_with_factors(make_user, system) -> User:
    ann = make_user("ann@example.com")
    TOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    WebAuthnCredential.objects.create(user=ann, name="Blue key", credential_id="k1", public_key=b"x")
    recovery.generate(system, ann)
    return ann


def test_no_totp_key_and_no_factor_or_lockout_table_is_reachable(rechecked_admin, ann_with_factors):
    device = TOTPDevice.objects.get(user=ann_with_factors)
    static = StaticDevice.objects.get(user=ann_with_factors)
    attempt = AccessAttempt.objects.create(
        username="ann@example.com", ip_address="127.0.0.9", user_agent="", http_accept="", path_info="/login/",
        get_data="", post_data="", failures_since_start=5,
    )  # fmt: skip
    failure = AccessFailureLog.objects.create(username="ann@example.com", user_agent="", http_accept="", path_info="/")
    log = AccessLog.objects.create(username="ann@example.com", user_agent="", http_accept="", path_info="/")
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
        for path in ("", "add/", f"{pk}/change/", f"{pk}/delete/", f"{pk}/history/", f"{pk}/config/", f"{pk}/qrcode/"):
            assert rechecked_admin.get(base + path).status_code == 404, base + path
        new_device = {"user": ann_with_factors.pk, "name": "planted", "confirmed": "on", "key": "31" * 20}
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
    secrets = [device.key, secret.hex(), secret.hex().upper(), b32encode(secret).decode().rstrip("="), "otpauth://"]
    key = WebAuthnCredential.objects.get(user=ann_with_factors)
    pages = [reverse("admin:index"), reverse("admin:users_user_change", args=[ann_with_factors.pk])]
    pages += [reverse("admin:users_webauthncredential_change", args=[key.pk])]
    pages += [reverse(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist") for m in PORTAL_MODELS]
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


def test_the_user_page_counts_second_factors_without_showing_them(rechecked_admin, ann_with_factors, make_user):
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


def test_factor_resets_are_audited_actions_on_the_users_list(rechecked_admin, ann_with_factors, make_user):
    bob = make_user("bob@example.com")
    TOTPDevice.objects.create(user=bob, name="app", confirmed=True)
    changelist = reverse("admin:users_user_changelist")
    response = rechecked_admin.post(
        changelist, {"action": "reset_totp", "_selected_action": [ann_with_factors.pk, bob.pk]}, follow=True
    )
    assert "Reset TOTP of 2 user(s)." in response.content.decode()
    assert not TOTPDevice.objects.filter(user__in=[ann_with_factors, bob]).exists()
    assert StaticDevice.objects.filter(user=ann_with_factors).exists()  # her key still stands for a factor
    disabled = AuditEntry.objects.filter(action_type="user_2fa_disable").values_list("target_label", flat=True)
    assert sorted(disabled) == ["ann@example.com", "bob@example.com"]
    response = rechecked_admin.post(changelist, {"action": "reset_webauthn", "_selected_action": [ann_with_factors.pk]})
    assert response.status_code == 302
    assert not WebAuthnCredential.objects.filter(user=ann_with_factors).exists()
    assert not StaticDevice.objects.filter(user=ann_with_factors).exists()  # no factor left: codes go too
    entry = AuditEntry.objects.get(action_type="user_webauthn_disable")
    assert entry.target_label == "ann@example.com" and entry.additional_information["keys_removed"] == ["Blue key"]


def test_read_only_tables_refuse_every_write(rechecked_admin, ann_with_factors):
    key = WebAuthnCredential.objects.get(user=ann_with_factors)
    membership = FlockMembership.objects.create(user=ann_with_factors, flock_id=DEFAULT_FLOCK_ID, role="watcher")
    before = db_state()
    for model, pk in ((WebAuthnCredential, key.pk), (FlockMembership, membership.pk)):
        name = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        assert rechecked_admin.get(reverse(f"{name}_add")).status_code == 403
        assert rechecked_admin.post(reverse(f"{name}_add"), {"user": ann_with_factors.pk}).status_code == 403
        assert (
            rechecked_admin.post(reverse(f"{name}_change", args=[pk]), {"name": "x", "role": "manager"}).status_code
            == 403
        )
        assert rechecked_admin.post(reverse(f"{name}_delete", args=[pk]), {"post": "yes"}).status_code == 403
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
    assert list(FlockMembership.objects.values_list("user_id", "flock_id", "role")) == [(ann.pk, flock.pk, "manager")]
