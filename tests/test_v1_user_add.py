"""v1 contract, org settings and user/add: exact success bodies, the welcome mail and its set-
password link."""

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import NEW_PASSWORD, link_path, ok, set_password_through

from users.models import AuditEntry, OrgSetting, User

pytestmark = pytest.mark.django_db


def test_globally_enforce_2fa_enable_and_disable(v1, admin):
    TOTPDevice.objects.create(
        user=admin, confirmed=True
    )  # once enforced, a token works only for the enrolled
    ok(v1.post("settings/usermanagement/globally_enforce_2fa/enable"))
    assert OrgSetting.load().globally_enforce_2fa is True
    ok(v1.post("settings/usermanagement/globally_enforce_2fa/disable"))
    assert OrgSetting.load().globally_enforce_2fa is False
    assert list(AuditEntry.objects.values_list("action_type", flat=True)[:2]) == [
        "globally_enforce_2fa_disable",
        "globally_enforce_2fa_enable",
    ]


# --- user/add -------------------------------------------------------------------------------------


def test_user_add(v1, sent_mail):
    response = v1.post(
        "user/add", email="New@Example.com", access_level="admin", note="hi", totp_enabled="true"
    )
    ok(response, {"msg": "User (new@example.com) successfully created.", "result": "success"})
    user = User.objects.get(email="new@example.com")
    assert (user.username, user.access_level, user.note, user.must_enroll_2fa, user.is_active) == (
        "new@example.com",
        "admin",
        "hi",
        True,
        True,
    )
    assert not user.has_usable_password()
    assert [m.to for m in sent_mail()] == [["new@example.com"]]


def test_welcome_mail_link_sets_the_password_once(v1, client, sent_mail):
    v1.post("user/add", email="new@example.com", access_level="user")
    path = link_path(sent_mail()[0])
    set_password_through(client, path, NEW_PASSWORD)
    user = User.objects.get(email="new@example.com")
    assert user.check_password(NEW_PASSWORD)
    entry = AuditEntry.objects.latest(
        "id"
    )  # saved through the service, audited as the link's holder
    assert (
        entry.action_type,
        entry.message,
        entry.actor_id,
        entry.actor_label,
        entry.target_label,
    ) == (
        "user_credentials_change",
        "Changed password of new@example.com",
        user.pk,
        "new@example.com",
        "new@example.com",
    )
    response = client.get(path, follow=True)
    assert response.context["validlink"] is False
    assert b"This link is no longer valid" in response.content


def test_set_password_page_applies_the_password_rules(v1, client, sent_mail):
    v1.post("user/add", email="new@example.com", access_level="user")
    form_path = client.get(link_path(sent_mail()[0]), follow=True).redirect_chain[-1][0]
    response = client.post(form_path, {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200
    assert b"This password is too short" in response.content
    assert not User.objects.get(email="new@example.com").has_usable_password()


@pytest.mark.parametrize(
    ("value", "mails"),
    [
        ("true", 1),
        ("TRUE", 1),
        ("1", 1),
        ("Yes", 1),
        ("false", 0),
        ("False", 0),
        ("0", 0),
        ("no", 0),
        ("NO", 0),
    ],
)
def test_send_welcome_mail_booleans(v1, value, mails, sent_mail):
    ok(
        v1.post("user/add", email="b@example.com", access_level="user", send_welcome_mail=value),
        {"msg": "User (b@example.com) successfully created.", "result": "success"},
    )
    assert len(sent_mail()) == mails


@pytest.mark.parametrize(
    ("value", "expected"), [("yes", True), ("TRUE", True), ("0", False), ("No", False)]
)
def test_totp_enabled_booleans(v1, value, expected):
    v1.post("user/add", email="b@example.com", access_level="user", totp_enabled=value)
    assert User.objects.get(email="b@example.com").must_enroll_2fa is expected
