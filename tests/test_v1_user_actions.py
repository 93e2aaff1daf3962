"""v1 contract, the actions on one user (note, edit, disable, remove, factor resets, password reset
mail, summary mail)."""

import pytest
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import NEW_PASSWORD, link_path, ok, set_password_through

from flocks.models import FlockMembership, FlockRole
from users.models import AccessLevel, AuditEntry, User, WebAuthnCredential

pytestmark = pytest.mark.django_db


def test_user_note_add(v1, ann):
    ok(
        v1.post("user/note/add", email="ANN@example.com", note="new note"),
        {"msg": "User (ann@example.com) note successfully added.", "result": "success"},
    )
    ann.refresh_from_db()
    assert ann.note == "new note"


def test_user_note_delete(v1, ann):
    ok(
        v1.delete("user/note/delete", email="ann@example.com"),
        {"msg": "User (ann@example.com) note successfully removed.", "result": "success"},
    )
    ann.refresh_from_db()
    assert ann.note == ""


def test_user_edit(v1, ann):
    ok(
        v1.post("user/edit", email="ann@example.com", note="Example note"),
        {"msg": "User (ann@example.com) successfully edited.", "result": "success"},
    )
    ann.refresh_from_db()
    assert ann.note == "Example note"


def test_user_edit_without_note_keeps_it(v1, ann):
    ok(
        v1.post("user/edit", email="ann@example.com"),
        {"msg": "User (ann@example.com) successfully edited.", "result": "success"},
    )
    ann.refresh_from_db()
    assert ann.note == "night shift"


def test_user_edit_access_level(v1, ann):
    ok(v1.post("user/edit/access_level", email="ann@example.com", access_level="admin"))
    ann.refresh_from_db()
    assert ann.access_level == AccessLevel.ADMIN
    ok(v1.post("user/edit/access_level", email="ann@example.com", access_level="user"))
    ann.refresh_from_db()
    assert ann.access_level == AccessLevel.USER


SUMMARY_OFF = {
    "msg": "Successfully disabled summary email for email ann@example.com",
    "result": "success",
}


def test_user_disable_and_enable_keep_the_summary_email_choice(v1, ann):
    """The contract's user/disable only stops sign-in; the user's summary-mail choice stays."""
    ok(v1.post("user/summary_email/disable", email="ann@example.com"), SUMMARY_OFF)
    ok(
        v1.post("user/disable", email="ann@example.com"),
        {"msg": "User (ann@example.com) successfully disabled.", "result": "success"},
    )
    ann.refresh_from_db()
    assert (ann.is_active, ann.summary_email_enabled) == (False, False)
    ok(
        v1.post("user/enable", email="ann@example.com"),
        {"msg": "User (ann@example.com) successfully enabled.", "result": "success"},
    )
    ann.refresh_from_db()
    assert (ann.is_active, ann.summary_email_enabled) == (True, False)


def test_user_remove(v1, ann, flock):
    FlockMembership.objects.create(user=ann, flock=flock, role=FlockRole.MANAGER)
    ok(
        v1.post("user/remove", email="ann@example.com"),
        {"msg": "User (ann@example.com) successfully removed.", "result": "success"},
    )
    assert not User.objects.filter(email="ann@example.com").exists()
    assert not FlockMembership.objects.exists()
    assert AuditEntry.objects.filter(
        action_type="user_remove", target_label="ann@example.com"
    ).exists()


def test_admin_can_be_removed_while_another_remains(v1, make_user):
    make_user("boss@example.com", access_level=AccessLevel.ADMIN)
    ok(
        v1.post("user/remove", email="boss@example.com"),
        {"msg": "User (boss@example.com) successfully removed.", "result": "success"},
    )


def test_user_2fa_disable_removes_totp_devices(v1, ann):
    TOTPDevice.objects.create(user=ann, name="phone", confirmed=True)
    StaticDevice.objects.create(user=ann, name="backup")
    ok(
        v1.post("user/2fa/disable", email="ann@example.com"),
        {
            "msg": "Successfully disabled two-factor authentication for user ann@example.com",
            "result": "success",
        },
    )
    assert not TOTPDevice.objects.filter(user=ann).exists()
    assert not StaticDevice.objects.filter(
        user=ann
    ).exists()  # no factor left, so the recovery codes go too


def test_user_webauthn_disable_removes_all_keys(v1, ann):
    for n in range(2):
        WebAuthnCredential.objects.create(
            user=ann, name=f"key {n}", credential_id=f"cred-{n}", public_key=b"k"
        )
    TOTPDevice.objects.create(user=ann, name="phone", confirmed=True)
    StaticDevice.objects.create(user=ann, name="backup")
    ok(v1.post("user/webauthn/disable", email="ann@example.com"))
    assert not WebAuthnCredential.objects.filter(user=ann).exists()
    assert StaticDevice.objects.filter(
        user=ann
    ).exists()  # TOTP is still there, so the recovery codes stay


def test_user_password_reset_mails_a_working_link(v1, ann, client, sent_mail):
    ann.set_password("old password 1234")
    ann.save()
    ok(
        v1.post("user/password/reset", email="ann@example.com"),
        {"msg": "Password reset email sent to ann@example.com", "result": "success"},
    )
    sent = sent_mail()
    assert [m.to for m in sent] == [["ann@example.com"]]
    set_password_through(client, link_path(sent[0]), NEW_PASSWORD)
    ann.refresh_from_db()
    assert ann.check_password(NEW_PASSWORD)


def test_summary_email_disable_and_enable(v1, ann):
    ok(
        v1.post("user/summary_email/disable", email="ann@example.com"),
        {
            "msg": "Successfully disabled summary email for email ann@example.com",
            "result": "success",
        },
    )
    ann.refresh_from_db()
    assert ann.summary_email_enabled is False
    ok(
        v1.post("user/summary_email/enable", email="ann@example.com"),
        {
            "msg": "Successfully enabled summary email for email ann@example.com",
            "result": "success",
        },
    )
    ann.refresh_from_db()
    assert ann.summary_email_enabled is True
