"""The Django admin site: every model registered, changes with rules go through the services."""

from __future__ import annotations

import pytest
from django.urls import reverse
from helpers import db_state, signed_in

from flocks.models import DEFAULT_FLOCK_ID, Flock, FlockMembership
from users import services
from users.models import (
    GRACE_PERIOD_MAX_HOURS,
    AuditEntry,
    OrgSetting,
    User,
    WebAuthnCredential,
)

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
    assert (
        rechecked_admin.get(reverse("admin:users_user_change", args=[user.pk])).status_code == 200
    )
    assert (
        rechecked_admin.get(
            reverse("admin:flocks_flock_change", args=[DEFAULT_FLOCK_ID])
        ).status_code
        == 200
    )


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
    assert (
        AuditEntry.objects.filter(action_type="user_add", target_label="new@example.com").count()
        == 1
    )
    assert [m.to for m in sent_mail()] == [["new@example.com"]]


def test_change_form_audits_each_change(rechecked_admin, make_user):
    user = make_user("ann@example.com")
    url = reverse("admin:users_user_change", args=[user.pk])
    response = rechecked_admin.post(
        url, user_form(user, access_level="admin", note="promoted", is_active=None)
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.access_level, user.note, user.is_active) == ("admin", "promoted", False)
    actions = set(
        AuditEntry.objects.filter(target_label=user.label).values_list("action_type", flat=True)
    )
    assert {"user_access_level_change", "user_note_add", "user_disable"} <= actions


def test_change_form_refuses_disabling_yourself_the_last_admin(rechecked_admin, admin):
    before = AuditEntry.objects.count()
    url = reverse("admin:users_user_change", args=[admin.pk])
    response = rechecked_admin.post(
        url, user_form(admin, is_active=None, note="changed"), follow=True
    )  # yourself is refused before the last-admin rule is asked (tests/test_services.py)
    assert "You cannot disable your own account: another admin can." in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_active and admin.note == ""
    assert AuditEntry.objects.count() == before


def test_disable_and_enable_actions_use_the_service(rechecked_admin, admin, make_user):
    ann, bob = make_user("ann@example.com"), make_user("bob@example.com")
    changelist = reverse("admin:users_user_changelist")
    rechecked_admin.post(
        changelist, {"action": "disable_users", "_selected_action": [ann.pk, bob.pk]}
    )
    assert not User.objects.filter(pk__in=[ann.pk, bob.pk], is_active=True).exists()
    assert AuditEntry.objects.filter(action_type="user_disable").count() == 2
    rechecked_admin.post(changelist, {"action": "enable_users", "_selected_action": [ann.pk]})
    assert User.objects.get(pk=ann.pk).is_active
    response = rechecked_admin.post(
        changelist, {"action": "disable_users", "_selected_action": [bob.pk, admin.pk]}, follow=True
    )
    # the last active admin is yourself here: refused as yourself, before the last-admin rule
    assert "You cannot disable your own account" in response.content.decode()
    assert User.objects.get(pk=admin.pk).is_active


def test_the_last_admin_yourself_cannot_be_deleted(rechecked_admin, admin, make_user):
    ann = make_user("ann@example.com")
    changelist = reverse("admin:users_user_changelist")
    response = rechecked_admin.post(
        changelist, {"action": "remove_users", "_selected_action": [ann.pk, admin.pk]}, follow=True
    )
    assert "You cannot remove your own account: another admin can. Nothing was removed." in (
        response.content.decode()
    )
    assert User.objects.filter(pk__in=[ann.pk, admin.pk]).count() == 2
    response = rechecked_admin.post(
        reverse("admin:users_user_delete", args=[admin.pk]), {"post": "yes"}, follow=True
    )
    assert "You cannot remove your own account" in response.content.decode()
    assert User.objects.filter(pk=admin.pk).exists()
    rechecked_admin.post(reverse("admin:users_user_delete", args=[ann.pk]), {"post": "yes"})
    assert not User.objects.filter(pk=ann.pk).exists()
    assert AuditEntry.objects.filter(
        action_type="user_remove", target_label="ann@example.com"
    ).exists()
    assert "delete_selected" not in rechecked_admin.get(changelist).content.decode()


def test_audit_log_is_read_only(rechecked_admin, admin, system):
    services.set_note(system, admin, "original")
    entry = AuditEntry.objects.get()
    assert rechecked_admin.get(reverse("admin:users_auditentry_add")).status_code == 403
    rechecked_admin.post(
        reverse("admin:users_auditentry_change", args=[entry.pk]), {"message": "forged"}
    )
    rechecked_admin.post(reverse("admin:users_auditentry_delete", args=[entry.pk]), {"post": "yes"})
    entry.refresh_from_db()
    assert entry.message == "Set the note of admin@example.com"


def test_org_setting_switch_and_grace_period_are_audited(rechecked_admin):
    url = reverse("admin:users_orgsetting_change", args=[OrgSetting.load().pk])
    assert "signed-in users from their next page (not their next sign-in)" in (
        rechecked_admin.get(url).content.decode()
    )
    rechecked_admin.post(url, {"globally_enforce_2fa": "on", "grace_period_hours": "24"})
    org = OrgSetting.load()
    assert org.globally_enforce_2fa and org.enforced_since is not None
    assert AuditEntry.objects.filter(action_type="globally_enforce_2fa_enable").count() == 1
    # The admin has no factor but is in the grace period: the admin site still takes them.
    response = rechecked_admin.post(url, {"globally_enforce_2fa": "on", "grace_period_hours": "12"})
    assert response.status_code == 302
    changed = OrgSetting.load()
    assert (changed.grace_period_hours, changed.enforced_since) == (12, org.enforced_since)
    entry = AuditEntry.objects.get(action_type="globally_enforce_2fa_grace_period")
    assert entry.additional_information["previous_hours"] == 24
    # With no grace left it is the rule of the pages and the API: a factor first.
    rechecked_admin.post(url, {"globally_enforce_2fa": "on", "grace_period_hours": "0"})
    assert OrgSetting.load().grace_period_hours == 0
    assert rechecked_admin.get(url).url == reverse("security")


def test_a_grace_period_over_the_maximum_is_a_form_error(rechecked_admin):
    url = reverse("admin:users_orgsetting_change", args=[OrgSetting.load().pk])
    before = db_state()
    response = rechecked_admin.post(
        url,
        {
            "globally_enforce_2fa": "on",
            "grace_period_hours": str(GRACE_PERIOD_MAX_HOURS + 1),
            "self_service_password_reset": "on",
        },
    )
    assert response.status_code == 200
    assert f"a whole number of hours from 0 to {GRACE_PERIOD_MAX_HOURS}" in (
        response.content.decode()
    )
    assert db_state() == before and not OrgSetting.load().globally_enforce_2fa
    assert not AuditEntry.objects.filter(action_type__startswith="globally_enforce_2fa").exists()
    # the maximum itself is taken
    rechecked_admin.post(
        url, {"globally_enforce_2fa": "on", "grace_period_hours": str(GRACE_PERIOD_MAX_HOURS)}
    )
    assert OrgSetting.load().grace_period_hours == GRACE_PERIOD_MAX_HOURS


def test_a_taken_flock_name_is_refused_next_to_the_field(rechecked_admin, flock):
    Flock.objects.create(name="Lagos")
    inline = {"memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
    for url, data in [
        (reverse("admin:flocks_flock_add"), {"name": "LAGOS", "note": ""}),
        (reverse("admin:flocks_flock_change", args=[flock.pk]), {"name": " lagos", **inline}),
    ]:
        before = db_state()
        response = rechecked_admin.post(url, data)
        assert response.status_code == 200
        assert response.context["adminform"].form.errors == {
            "name": ["A flock named Lagos already exists."]
        }
        assert db_state() == before
    response = rechecked_admin.post(
        reverse("admin:flocks_flock_change", args=[flock.pk]), {"name": "CAPE TOWN", **inline}
    )
    assert response.status_code == 302 and Flock.objects.get(pk=flock.pk).name == "CAPE TOWN"


def test_memberships_are_found_by_flock_name_not_a_list_of_every_flock(rechecked_admin, ann):
    flocks = Flock.objects.bulk_create([Flock(name=f"Site {n:04}") for n in range(1000)])
    FlockMembership.objects.create(user=ann, flock=flocks[7], role="watcher")
    url = reverse("admin:flocks_flockmembership_changelist")
    body = rechecked_admin.get(url).content.decode()
    assert "Site 0007" in body and "Site 0008" not in body  # no sidebar of 1,000 flocks
    found = rechecked_admin.get(url, {"q": "site 0007"})
    assert [m.flock.name for m in found.context["cl"].result_list] == ["Site 0007"]


def test_flocks_through_the_services(rechecked_admin):
    response = rechecked_admin.post(
        reverse("admin:flocks_flock_add"), {"name": "Lagos", "note": ""}
    )
    flock = Flock.objects.get(name="Lagos")
    assert response.status_code == 302  # no membership formsets on the add page to trip over
    inline = {"memberships-TOTAL_FORMS": "0", "memberships-INITIAL_FORMS": "0"}
    response = rechecked_admin.post(
        reverse("admin:flocks_flock_change", args=[flock.pk]),
        {"name": "Lagos HQ", "note": "west", **inline},
    )
    assert response.status_code == 302
    rechecked_admin.post(reverse("admin:flocks_flock_delete", args=[flock.pk]), {"post": "yes"})
    assert not Flock.objects.filter(pk=flock.pk).exists()
    actions = list(
        AuditEntry.objects.filter(flock_id=flock.pk).values_list("action_type", flat=True)
    )
    assert actions == ["flock_delete", "flock_note_add", "flock_rename", "flock_create"]
    assert (
        rechecked_admin.post(
            reverse("admin:flocks_flock_delete", args=[DEFAULT_FLOCK_ID]), {"post": "yes"}
        ).status_code
        == 403
    )
    assert Flock.objects.filter(pk=DEFAULT_FLOCK_ID).exists()
