"""The home page, the users list (search, filters, pages) and the add-user page."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import assert_sent_to_login, request_overhead, signed_in

from flocks.models import FlockMembership
from users import services
from users.models import AuditEntry, OrgSetting, User, WebAuthnCredential

pytestmark = pytest.mark.django_db


def test_home_is_a_dashboard_for_admins_and_the_profile_for_users(
    client, rechecked_admin, ann, bob, system, django_assert_num_queries
):
    services.set_active(system, bob, False)
    TOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    OrgSetting.load()  # its row exists on any installation that has had a request
    # four capped user counts, users without a factor, flocks, org settings, recent audit
    # entries; the nudges: the admin's apps, keys and printed password (tests/test_nudges.py)
    with django_assert_num_queries(request_overhead(rechecked_admin) + 11):
        response = rechecked_admin.get("/")
    assert response.status_code == 200
    assert response.context["counts"] == {"total": 3, "admins": 1, "disabled": 1, "tokens": 0}
    assert response.context["without_factor"] == 1  # admin; bob is disabled
    assert "Disabled user bob@example.com" in response.content.decode()
    assert signed_in(ann).get("/").url == reverse("user_detail", args=[ann.pk])
    assert_sent_to_login(client.get("/"), "/")


def test_users_list_shows_and_searches(rechecked_admin, ann, bob):
    response = rechecked_admin.get(reverse("user_list"))
    assert response.status_code == 200
    assert [u.username for u in response.context["page"]] == ["admin", "ann", "bob@example.com"]
    response = rechecked_admin.get(reverse("user_list"), {"q": "NIGHT"})
    assert [u.username for u in response.context["page"]] == ["ann"]
    assert b"night shift" in response.content


def test_users_list_filters(rechecked_admin, admin, ann, bob, system):
    TOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    WebAuthnCredential.objects.create(user=bob, name="YubiKey", credential_id="k1", public_key=b"x")
    TOTPDevice.objects.create(user=bob, name="app", confirmed=True)
    services.set_active(system, bob, False)
    services.issue_api_token(system, ann)

    def names(**params):
        return [
            u.username for u in rechecked_admin.get(reverse("user_list"), params).context["page"]
        ]

    assert names(two_factor="none") == ["admin"]
    assert names(two_factor="totp") == ["ann"]
    assert names(two_factor="both") == ["bob@example.com"]
    assert names(two_factor="webauthn") == []
    assert names(disabled="yes") == ["bob@example.com"]
    assert names(access_level="admin") == ["admin"]
    assert names(token="yes") == ["ann"]
    assert names(sort="-email") == ["bob@example.com", "ann", "admin"]


def test_users_list_rejects_bad_filter_values(rechecked_admin):
    response = rechecked_admin.get(reverse("user_list"), {"two_factor": "sms", "sort": "password"})
    assert response.status_code == 400
    assert "two_factor" in response.context["form"].errors


def test_users_list_paginates_in_constant_queries(
    rechecked_admin, make_user, django_assert_num_queries
):
    for n in range(60):
        user = make_user(f"u{n:02}@example.com")
        FlockMembership.objects.create(user=user, flock_id="flock:default", role="watcher")
    overhead = request_overhead(rechecked_admin)
    # count, ids of the page, their details, their memberships, the invited ones' welcome mails
    with django_assert_num_queries(overhead + 5):
        first = rechecked_admin.get(reverse("user_list"), {"sort": "email"})
    with django_assert_num_queries(overhead + 5):
        second = rechecked_admin.get(reverse("user_list"), {"sort": "email", "page": 2})
    assert len(first.context["page"]) == 50 and len(second.context["page"]) == 11
    assert b"Page 2 of 2" in second.content


def test_add_user_sends_welcome_mail(rechecked_admin, sent_mail):
    response = rechecked_admin.post(
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
    assert AuditEntry.objects.filter(
        action_type="user_add", target_label="new@example.com"
    ).exists()


def test_add_user_shows_service_errors_next_to_the_field(rechecked_admin, ann):
    response = rechecked_admin.post(
        reverse("user_add"), {"email": "ann@example.com", "access_level": "admin"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors == {"email": ["User (ann@example.com) already exists."]}
    response = rechecked_admin.post(
        reverse("user_add"), {"email": "not-an-email", "access_level": "user"}
    )
    assert response.context["form"].errors == {
        "email": ["Invalid email address in email: 'not-an-email'"]
    }
    assert User.objects.count() == 2
