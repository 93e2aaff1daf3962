"""The user pages: list, add, profile and every action on it, with the permission denials."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from page_helpers import assert_sent_to_login, request_overhead, signed_in

from flocks.models import Flock, FlockMembership
from users import services
from users.models import AuditEntry, OrgSetting, User, WebAuthnCredential

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin):
    return signed_in(admin, checked_now=True)


@pytest.fixture
def ann(make_user):
    return make_user("ann@example.com", note="night shift")


@pytest.fixture
def bob(make_user):
    return make_user("bob@example.com")


def test_home_is_a_dashboard_for_admins_and_the_profile_for_users(
    client, admin_client, ann, bob, system, django_assert_num_queries
):
    services.set_active(system, bob, False)
    TOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    OrgSetting.load()  # its row exists on any installation that has had a request
    # user counts, users without a factor, flocks, org settings, recent audit entries
    with django_assert_num_queries(request_overhead(admin_client) + 5):
        response = admin_client.get("/")
    assert response.status_code == 200
    assert response.context["counts"] == {"total": 3, "admins": 1, "disabled": 1, "tokens": 0}
    assert response.context["without_factor"] == 1  # admin; bob is disabled
    assert "Disabled user bob@example.com" in response.content.decode()
    assert signed_in(ann).get("/").url == reverse("user_detail", args=[ann.pk])
    assert_sent_to_login(client.get("/"), "/")


def test_users_list_shows_and_searches(admin_client, ann, bob):
    response = admin_client.get(reverse("user_list"))
    assert response.status_code == 200
    assert [u.username for u in response.context["page"]] == ["admin", "ann@example.com", "bob@example.com"]
    response = admin_client.get(reverse("user_list"), {"q": "NIGHT"})
    assert [u.username for u in response.context["page"]] == ["ann@example.com"]
    assert b"night shift" in response.content


def test_users_list_filters(admin_client, admin, ann, bob, system):
    TOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    WebAuthnCredential.objects.create(user=bob, name="YubiKey", credential_id="k1", public_key=b"x")
    TOTPDevice.objects.create(user=bob, name="app", confirmed=True)
    services.set_active(system, bob, False)
    services.issue_api_token(system, ann)

    def names(**params):
        return [u.username for u in admin_client.get(reverse("user_list"), params).context["page"]]

    assert names(two_factor="none") == ["admin"]
    assert names(two_factor="totp") == ["ann@example.com"]
    assert names(two_factor="both") == ["bob@example.com"]
    assert names(two_factor="webauthn") == []
    assert names(disabled="yes") == ["bob@example.com"]
    assert names(access_level="admin") == ["admin"]
    assert names(token="yes") == ["ann@example.com"]
    assert names(sort="-email") == ["bob@example.com", "ann@example.com", "admin"]


def test_users_list_rejects_bad_filter_values(admin_client):
    response = admin_client.get(reverse("user_list"), {"two_factor": "sms", "sort": "password"})
    assert response.status_code == 400
    assert "two_factor" in response.context["form"].errors


def test_users_list_paginates_in_constant_queries(admin_client, make_user, django_assert_num_queries):
    for n in range(60):
        user = make_user(f"u{n:02}@example.com")
        FlockMembership.objects.create(user=user, flock_id="flock:default", role="watcher")
    overhead = request_overhead(admin_client)
    # count, ids of the page, their details, their memberships
    with django_assert_num_queries(overhead + 4):
        first = admin_client.get(reverse("user_list"), {"sort": "email"})
    with django_assert_num_queries(overhead + 4):
        second = admin_client.get(reverse("user_list"), {"sort": "email", "page": 2})
    assert len(first.context["page"]) == 50 and len(second.context["page"]) == 11
    assert b"Page 2 of 2" in second.content


def test_add_user_sends_welcome_mail(admin_client, sent_mail):
    response = admin_client.post(
        reverse("user_add"),
        {
            "email": "New@Example.com",
            "access_level": "user",
            "note": "hi",
            "require_2fa": "on",
            "send_welcome_mail": "on",
        },
        follow=True,
    )
    user = User.objects.get(email="new@example.com")
    assert response.redirect_chain == [(reverse("user_detail", args=[user.pk]), 302)]
    assert "Added new@example.com. A welcome mail is queued." in response.content.decode()
    assert user.must_enroll_2fa and user.note == "hi"
    assert [m.to for m in sent_mail()] == [["new@example.com"]]
    assert AuditEntry.objects.filter(action_type="user_add", target_label="new@example.com").exists()


def test_add_user_shows_service_errors_next_to_the_field(admin_client, ann):
    response = admin_client.post(reverse("user_add"), {"email": "ann@example.com", "access_level": "admin"})
    assert response.status_code == 400
    assert response.context["form"].errors == {"email": ["User (ann@example.com) already exists."]}
    response = admin_client.post(reverse("user_add"), {"email": "not-an-email", "access_level": "user"})
    assert response.context["form"].errors == {"email": ["Invalid email address in email: 'not-an-email'"]}
    assert User.objects.count() == 2


def test_profile_shows_everything_to_admins(admin_client, ann, system):
    WebAuthnCredential.objects.create(user=ann, name="Blue YubiKey", credential_id="k1", public_key=b"x")
    flock = Flock.objects.create(name="Cape Town")
    FlockMembership.objects.create(user=ann, flock=flock, role="manager")
    response = admin_client.get(reverse("user_detail", args=[ann.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    for text in (
        "night shift",
        "Blue YubiKey",
        "Cape Town",
        "manager",
        "Recent activity",
        "Added user ann@example.com",
    ):
        assert text in body


def test_note_edit_and_remove(admin_client, ann):
    url = reverse("user_note", args=[ann.pk])
    assert admin_client.post(url, {"note": "day shift"}).status_code == 302
    ann.refresh_from_db()
    assert ann.note == "day shift"
    admin_client.post(url, {"remove": "1"})
    ann.refresh_from_db()
    assert ann.note == ""
    assert list(AuditEntry.objects.filter(target_label=ann.label).values_list("action_type", flat=True)[:2]) == [
        "user_note_remove",
        "user_note_add",
    ]


def test_note_with_nul_is_refused_next_to_the_field(admin_client, ann):
    response = admin_client.post(reverse("user_note", args=[ann.pk]), {"note": "a\x00b"})
    assert response.status_code == 400
    assert response.context["note_form"].errors["note"]
    ann.refresh_from_db()
    assert ann.note == "night shift"


def test_access_level_and_the_last_admin(admin_client, admin, ann):
    admin_client.post(reverse("user_access_level", args=[ann.pk]), {"access_level": "admin"})
    ann.refresh_from_db()
    assert ann.is_admin
    admin_client.post(reverse("user_access_level", args=[ann.pk]), {"access_level": "user"})
    response = admin_client.post(reverse("user_access_level", args=[admin.pk]), {"access_level": "user"}, follow=True)
    assert "Cannot demote the last active admin." in response.content.decode()
    admin.refresh_from_db()
    assert admin.is_admin
    response = admin_client.post(reverse("user_access_level", args=[ann.pk]), {"access_level": "root"})
    assert response.status_code == 400 and response.context["access_form"].errors["access_level"]


def test_disable_and_enable(admin_client, admin, ann):
    url = reverse("user_active", args=[ann.pk])
    admin_client.post(url, {"active": "0"})
    ann.refresh_from_db()
    assert not ann.is_active
    admin_client.post(url, {"active": "1"})
    ann.refresh_from_db()
    assert ann.is_active
    response = admin_client.post(reverse("user_active", args=[admin.pk]), {"active": "0"}, follow=True)
    assert "Cannot disable the last active admin." in response.content.decode()


@pytest.mark.parametrize("name", ["user_active", "user_summary_email"])
def test_malformed_switches_are_400_and_change_nothing(admin_client, ann, name):
    before = AuditEntry.objects.count()
    for data in ({}, {"active": "yes", "enabled": "off"}):
        response = admin_client.post(reverse(name, args=[ann.pk]), data)
        assert response.status_code == 400 and b"Bad request" in response.content
    ann.refresh_from_db()
    assert ann.is_active and ann.summary_email_enabled and AuditEntry.objects.count() == before


def test_reset_password_sends_mail(admin_client, ann, sent_mail):
    response = admin_client.post(reverse("user_reset_password", args=[ann.pk]), follow=True)
    assert "Queued a password reset mail to ann@example.com." in response.content.decode()
    sent = sent_mail()
    assert sent[0].to == ["ann@example.com"] and "/accounts/reset/" in sent[0].body


def test_reset_totp_confirms_first(admin_client, ann):
    TOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    url = reverse("user_reset_totp", args=[ann.pk])
    response = admin_client.get(url)
    assert response.status_code == 200 and b"Reset TOTP" in response.content
    assert TOTPDevice.objects.filter(user=ann).exists()
    admin_client.post(url)
    assert not TOTPDevice.objects.filter(user=ann).exists()
    assert AuditEntry.objects.filter(action_type="user_2fa_disable", target_label=ann.label).exists()


def test_reset_webauthn_lists_keys_by_name(admin_client, ann):
    WebAuthnCredential.objects.create(user=ann, name="Blue YubiKey", credential_id="k1", public_key=b"x")
    WebAuthnCredential.objects.create(user=ann, name="Laptop", credential_id="k2", public_key=b"x")
    url = reverse("user_reset_webauthn", args=[ann.pk])
    body = admin_client.get(url).content.decode()
    assert "Blue YubiKey" in body and "Laptop" in body
    response = admin_client.post(url, follow=True)
    assert "2 keys removed" in response.content.decode()
    assert not WebAuthnCredential.objects.filter(user=ann).exists()


def test_summary_email_toggle(admin_client, ann):
    admin_client.post(reverse("user_summary_email", args=[ann.pk]), {"enabled": "0"})
    ann.refresh_from_db()
    assert not ann.summary_email_enabled
    signed_in(ann).post(reverse("user_summary_email", args=[ann.pk]), {"enabled": "1"})
    ann.refresh_from_db()
    assert ann.summary_email_enabled


def test_assign_and_unassign_several_flocks(admin_client, ann):
    north, south = Flock.objects.create(name="North"), Flock.objects.create(name="South")
    response = admin_client.post(
        reverse("user_flocks_assign", args=[ann.pk]), {"flocks": [north.flock_id, south.flock_id], "role": "watcher"}
    )
    assert response.status_code == 302
    assert set(FlockMembership.objects.filter(user=ann).values_list("flock__name", "role")) == {
        ("North", "watcher"),
        ("South", "watcher"),
    }
    admin_client.post(reverse("user_flocks_assign", args=[ann.pk]), {"flocks": [north.flock_id], "role": "manager"})
    admin_client.post(reverse("user_flocks_unassign", args=[ann.pk]), {"flocks": [north.flock_id, south.flock_id]})
    assert not FlockMembership.objects.filter(user=ann).exists()
    assert AuditEntry.objects.filter(action_type="user_unassign_from_flock").count() == 2


def test_assign_to_unknown_flock_changes_nothing(admin_client, ann):
    north = Flock.objects.create(name="North")
    response = admin_client.post(
        reverse("user_flocks_assign", args=[ann.pk]), {"flocks": [north.flock_id, "flock:nope"], "role": "watcher"}
    )
    assert response.status_code == 400
    assert response.context["assign_form"].errors["flocks"]
    assert not FlockMembership.objects.filter(user=ann).exists()


@pytest.mark.parametrize("name", ["user_reset_totp", "user_reset_webauthn", "user_remove"])
def test_taking_access_away_needs_a_recent_sign_in_check(admin, ann, name):
    TOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    url = reverse(name, args=[ann.pk])
    client = signed_in(admin)
    for response in (client.get(url), client.post(url)):
        assert response.status_code == 302 and response.url == f"{reverse('reauth')}?next={url}"
    assert User.objects.filter(pk=ann.pk).exists() and TOTPDevice.objects.filter(user=ann).exists()


def test_remove_user_after_confirmation(admin_client, admin, ann):
    url = reverse("user_remove", args=[ann.pk])
    assert b"Remove user" in admin_client.get(url).content
    assert User.objects.filter(pk=ann.pk).exists()
    response = admin_client.post(url)
    assert response.url == reverse("user_list")
    assert not User.objects.filter(pk=ann.pk).exists()
    response = admin_client.post(reverse("user_remove", args=[admin.pk]), follow=True)
    assert "Cannot remove the last active admin." in response.content.decode()


def test_api_token_create_shown_once_and_revoke(ann):
    client = signed_in(ann, checked_now=True)
    assert b"Create an API token?" in client.get(reverse("token_create", args=[ann.pk])).content
    response = client.post(reverse("token_create", args=[ann.pk]))
    assert response.status_code == 200
    token = response.context["token"]
    ann.refresh_from_db()
    assert token not in ann.api_token_hash and ann.api_token_hash.startswith("$2")
    assert token in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    profile = client.get(reverse("user_detail", args=[ann.pk])).content.decode()
    assert token not in profile and "Last used" in profile
    client.post(reverse("token_revoke", args=[ann.pk]))
    ann.refresh_from_db()
    assert ann.api_token_index is None


def test_admins_see_and_revoke_tokens_but_cannot_create_them_for_others(admin_client, admin, ann, system):
    services.issue_api_token(system, ann)
    assert b"Revoke token" in admin_client.get(reverse("user_detail", args=[ann.pk])).content
    assert signed_in(admin, checked_now=True).post(reverse("token_create", args=[ann.pk])).status_code == 403
    admin_client.post(reverse("token_revoke", args=[ann.pk]))
    ann.refresh_from_db()
    assert not ann.api_token_hash


# --- who may do what -------------------------------------------------------------------------

ADMIN_ONLY_GET = ["user_list", "user_add", "audit_log", "org_settings"]
ADMIN_ONLY_USER_POST = [
    ("user_note", {"note": "pwned"}),
    ("user_access_level", {"access_level": "admin"}),
    ("user_active", {"active": "0"}),
    ("user_reset_password", {}),
    ("user_reset_totp", {}),
    ("user_reset_webauthn", {}),
    ("user_flocks_assign", {"flocks": ["flock:default"], "role": "manager"}),
    ("user_flocks_unassign", {"flocks": ["flock:default"]}),
    ("user_remove", {}),
]


@pytest.mark.parametrize("name", ADMIN_ONLY_GET)
def test_admin_pages_refuse_users_and_send_visitors_to_login(client, ann, name):
    url = reverse(name)
    assert signed_in(ann).get(url).status_code == 403
    assert_sent_to_login(client.get(url), url)


@pytest.mark.parametrize(("name", "data"), ADMIN_ONLY_USER_POST)
def test_forged_admin_actions_by_a_user_are_refused_and_change_nothing(client, ann, bob, name, data):
    TOTPDevice.objects.create(user=bob, name="app", confirmed=True)
    FlockMembership.objects.create(user=bob, flock_id="flock:default", role="watcher")
    before = AuditEntry.objects.count()
    for target in (bob, ann):  # someone else, and themselves
        url = reverse(name, args=[target.pk])
        assert signed_in(ann).post(url, data).status_code == 403
        response = client.post(url, data)
        assert response.status_code == 302 and "next=" in response.url
    assert AuditEntry.objects.count() == before
    bob.refresh_from_db()
    assert bob.is_active and bob.note == "" and not bob.is_admin
    assert TOTPDevice.objects.filter(user=bob).exists() and FlockMembership.objects.filter(user=bob).exists()


def test_users_see_only_their_own_profile(ann, bob):
    client = signed_in(ann)
    response = client.get(reverse("user_detail", args=[ann.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Recent activity" not in body and "Remove user" not in body
    assert "night shift" not in body  # the note is the admins' own remark
    assert client.get(reverse("user_detail", args=[bob.pk])).status_code == 403
    assert client.get(reverse("user_detail", args=[99999])).status_code == 403
    assert client.post(reverse("user_summary_email", args=[bob.pk]), {"enabled": "0"}).status_code == 403
    assert client.post(reverse("token_create", args=[bob.pk])).status_code == 403
    assert client.post(reverse("token_revoke", args=[bob.pk])).status_code == 403
    bob.refresh_from_db()
    assert bob.summary_email_enabled


def test_actions_refuse_get(admin_client, ann):
    assert admin_client.get(reverse("user_active", args=[ann.pk])).status_code == 405
    assert admin_client.get(reverse("user_flocks_assign", args=[ann.pk])).status_code == 405


def test_a_new_api_token_needs_a_recent_sign_in_check(ann):
    url = reverse("token_create", args=[ann.pk])
    response = signed_in(ann).post(url)
    assert response.status_code == 302 and response.url == f"{reverse('reauth')}?next={url}"
    ann.refresh_from_db()
    assert not ann.api_token_hash


def test_forms_carry_csrf_tokens(ann, admin):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin)
    assert client.post(reverse("user_active", args=[ann.pk]), {"active": "0"}).status_code == 403
    ann.refresh_from_db()
    assert ann.is_active
    body = client.get(reverse("user_detail", args=[ann.pk])).content.decode()
    assert body.count("<form") == body.count("csrfmiddlewaretoken")


def test_profile_costs_the_same_queries_however_many_flocks_and_keys(admin_client, ann, django_assert_num_queries):
    url = reverse("user_detail", args=[ann.pk])
    with CaptureQueriesContext(connection) as bare:
        admin_client.get(url)
    for n in range(5):
        FlockMembership.objects.create(user=ann, flock=Flock.objects.create(name=f"F{n}"), role="watcher")
        WebAuthnCredential.objects.create(user=ann, name=f"Key {n}", credential_id=f"k{n}", public_key=b"x")
    with django_assert_num_queries(len(bare)):
        body = admin_client.get(url).content.decode()
    assert "F4" in body and "Key 4" in body
