"""v1 contract for users and org settings: exact success bodies, their effect, and every refusal."""

import re
from urllib.parse import urlparse

import pytest
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from flocks.models import Flock, FlockMembership, FlockRole
from users.models import AccessLevel, AuditEntry, OrgSetting, User, WebAuthnCredential

pytestmark = pytest.mark.django_db

SUCCESS = {"result": "success"}
NEW_PASSWORD = "a fresh long passphrase 42"


def ok(response, body=SUCCESS):
    assert (response.status_code, response.json()) == (200, body)


@pytest.fixture
def ann(make_user) -> User:
    return make_user("ann@example.com", note="first note")


# --- org settings ---------------------------------------------------------------------------------------------


def test_globally_enforce_2fa_enable_and_disable(v1, admin):
    TOTPDevice.objects.create(user=admin, confirmed=True)  # once enforced, a token works only for the enrolled
    ok(v1.post("settings/usermanagement/globally_enforce_2fa/enable"))
    assert OrgSetting.load().globally_enforce_2fa is True
    ok(v1.post("settings/usermanagement/globally_enforce_2fa/disable"))
    assert OrgSetting.load().globally_enforce_2fa is False
    assert list(AuditEntry.objects.values_list("action_type", flat=True)[:2]) == [
        "globally_enforce_2fa_disable",
        "globally_enforce_2fa_enable",
    ]


# --- user/add -------------------------------------------------------------------------------------------------


def test_user_add(v1, sent_mail):
    response = v1.post("user/add", email="New@Example.com", access_level="admin", note="hi", totp_enabled="true")
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


def _link_path(message) -> str:
    link = re.search(r"https?://\S+/accounts/reset/\S+/", message.body).group(0)
    return urlparse(link).path


def _set_password_through(client, path: str, password: str) -> None:
    """Follow a mailed link as a browser does: the page redirects to its form, which sets the password."""
    response = client.get(path, follow=True)
    assert response.status_code == 200 and response.context["validlink"]
    form_path = response.redirect_chain[-1][0]
    response = client.post(form_path, {"new_password1": password, "new_password2": password}, follow=True)
    assert response.redirect_chain == [("/accounts/reset/done/", 302)]
    login = reverse("login").encode()
    assert b'Your password has been set. You can now <a href="' + login + b'">sign in</a>.' in response.content


def test_welcome_mail_link_sets_the_password_once(v1, client, sent_mail):
    v1.post("user/add", email="new@example.com", access_level="user")
    path = _link_path(sent_mail()[0])
    _set_password_through(client, path, NEW_PASSWORD)
    user = User.objects.get(email="new@example.com")
    assert user.check_password(NEW_PASSWORD)
    entry = AuditEntry.objects.latest("id")  # saved through the service, audited as the link's holder
    assert (entry.action_type, entry.message, entry.actor_id, entry.actor_label, entry.target_label) == (
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
    form_path = client.get(_link_path(sent_mail()[0]), follow=True).redirect_chain[-1][0]
    response = client.post(form_path, {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200
    assert b"This password is too short" in response.content
    assert not User.objects.get(email="new@example.com").has_usable_password()


@pytest.mark.parametrize(
    ("value", "mails"),
    [("true", 1), ("TRUE", 1), ("1", 1), ("Yes", 1), ("false", 0), ("False", 0), ("0", 0), ("no", 0), ("NO", 0)],
)
def test_send_welcome_mail_booleans(v1, value, mails, sent_mail):
    ok(
        v1.post("user/add", email="b@example.com", access_level="user", send_welcome_mail=value),
        {"msg": "User (b@example.com) successfully created.", "result": "success"},
    )
    assert len(sent_mail()) == mails


@pytest.mark.parametrize(("value", "expected"), [("yes", True), ("TRUE", True), ("0", False), ("No", False)])
def test_totp_enabled_booleans(v1, value, expected):
    v1.post("user/add", email="b@example.com", access_level="user", totp_enabled=value)
    assert User.objects.get(email="b@example.com").must_enroll_2fa is expected


# --- the other user actions -----------------------------------------------------------------------------------


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
    assert ann.note == "first note"


def test_user_edit_access_level(v1, ann):
    ok(v1.post("user/edit/access_level", email="ann@example.com", access_level="admin"))
    ann.refresh_from_db()
    assert ann.access_level == AccessLevel.ADMIN
    ok(v1.post("user/edit/access_level", email="ann@example.com", access_level="user"))
    ann.refresh_from_db()
    assert ann.access_level == AccessLevel.USER


def test_user_disable_and_enable_switch_the_summary_email(v1, ann):
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
    assert (ann.is_active, ann.summary_email_enabled) == (True, True)


def test_user_remove(v1, ann, flock):
    FlockMembership.objects.create(user=ann, flock=flock, role=FlockRole.MANAGER)
    ok(
        v1.post("user/remove", email="ann@example.com"),
        {"msg": "User (ann@example.com) successfully removed.", "result": "success"},
    )
    assert not User.objects.filter(email="ann@example.com").exists()
    assert not FlockMembership.objects.exists()
    assert AuditEntry.objects.filter(action_type="user_remove", target_label="ann@example.com").exists()


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
        {"msg": "Successfully disabled two-factor authentication for user ann@example.com", "result": "success"},
    )
    assert not TOTPDevice.objects.filter(user=ann).exists()
    assert not StaticDevice.objects.filter(user=ann).exists()  # no factor left, so the recovery codes go too


def test_user_webauthn_disable_removes_all_keys(v1, ann):
    for n in range(2):
        WebAuthnCredential.objects.create(user=ann, name=f"key {n}", credential_id=f"cred-{n}", public_key=b"k")
    TOTPDevice.objects.create(user=ann, name="phone", confirmed=True)
    StaticDevice.objects.create(user=ann, name="backup")
    ok(v1.post("user/webauthn/disable", email="ann@example.com"))
    assert not WebAuthnCredential.objects.filter(user=ann).exists()
    assert StaticDevice.objects.filter(user=ann).exists()  # TOTP is still there, so the recovery codes stay


def test_user_password_reset_mails_a_working_link(v1, ann, client, sent_mail):
    ann.set_password("old password 1234")
    ann.save()
    ok(
        v1.post("user/password/reset", email="ann@example.com"),
        {"msg": "Password reset email sent to ann@example.com", "result": "success"},
    )
    sent = sent_mail()
    assert [m.to for m in sent] == [["ann@example.com"]]
    _set_password_through(client, _link_path(sent[0]), NEW_PASSWORD)
    ann.refresh_from_db()
    assert ann.check_password(NEW_PASSWORD)


def test_summary_email_disable_and_enable(v1, ann):
    ok(
        v1.post("user/summary_email/disable", email="ann@example.com"),
        {"msg": "Successfully disabled summary email for email ann@example.com", "result": "success"},
    )
    ann.refresh_from_db()
    assert ann.summary_email_enabled is False
    ok(
        v1.post("user/summary_email/enable", email="ann@example.com"),
        {"msg": "Successfully enabled summary email for email ann@example.com", "result": "success"},
    )
    ann.refresh_from_db()
    assert ann.summary_email_enabled is True


# --- reading users --------------------------------------------------------------------------------------------


def _expected_user(user: User, **overrides) -> dict:
    return {
        "id": user.pk,
        "email": user.email,
        "username": user.username,
        "access_level": user.access_level,
        "disabled": not user.is_active,
        "note": user.note,
        "totp_enabled": False,
        "webauthn_enabled": False,
        "require_2fa": user.must_enroll_2fa,
        "summary_email_enabled": user.summary_email_enabled,
        "managed_flocks": [],
        "watched_flocks": [],
        "created": user.date_joined.isoformat(),
        **overrides,
    }


@pytest.fixture
def ann_with_everything(ann, flock) -> User:
    other = Flock.objects.create(name="Berlin")
    FlockMembership.objects.create(user=ann, flock=flock, role=FlockRole.MANAGER)
    FlockMembership.objects.create(user=ann, flock_id="flock:default", role=FlockRole.WATCHER)
    FlockMembership.objects.create(user=ann, flock=other, role=FlockRole.WATCHER)
    TOTPDevice.objects.create(user=ann, name="phone", confirmed=True)
    WebAuthnCredential.objects.create(user=ann, name="key", credential_id="cred", public_key=b"k")
    ann.is_active = False
    ann.save()
    ann.watched = sorted(["flock:default", other.flock_id])
    return ann


def test_user_get_has_real_json_types(v1, ann_with_everything, flock):
    ann = ann_with_everything
    ok(
        v1.get("user/get", email="Ann@Example.com"),
        {
            "result": "success",
            "user": _expected_user(
                ann,
                disabled=True,
                totp_enabled=True,
                webauthn_enabled=True,
                managed_flocks=[flock.flock_id],
                watched_flocks=ann.watched,
            ),
        },
    )


def test_unconfirmed_totp_device_does_not_count(v1, ann):
    TOTPDevice.objects.create(user=ann, name="half enrolled", confirmed=False)
    assert v1.get("user/get", email="ann@example.com").json()["user"]["totp_enabled"] is False


def test_user_auth(v1, ann_with_everything, flock):
    ok(
        v1.get("user/auth", email="ann@example.com"),
        {
            "result": "success",
            "email": "ann@example.com",
            "access_level": "user",
            "managed_flocks": [flock.flock_id],
            "watched_flocks": ann_with_everything.watched,
        },
    )


def test_users_list(v1, admin, ann):
    ok(
        v1.get("users/list"),
        {
            "result": "success",
            "users": [_expected_user(admin), _expected_user(ann)],
            "cursor": {"next": None, "prev": None},
            "page_count": 1,
            "page_number": 1,
            "total": 2,
        },
    )


def test_users_list_pages_with_cursors(v1, make_user):
    emails = ["admin@example.com"] + [make_user(f"u{n}@example.com").email for n in range(4)]
    first = v1.get("users/list", limit=2).json()
    second = v1.get("users/list", limit=2, cursor=first["cursor"]["next"]).json()
    third = v1.get("users/list", limit=2, cursor=second["cursor"]["next"]).json()
    pages = [first, second, third]
    assert [[u["email"] for u in page["users"]] for page in pages] == [emails[:2], emails[2:4], emails[4:]]
    assert [page["page_number"] for page in pages] == [1, 2, 3] and first["page_count"] == 3
    assert first["cursor"]["prev"] is None and third["cursor"]["next"] is None
    back = v1.get("users/list", limit=2, cursor=third["cursor"]["prev"]).json()
    assert back["users"] == second["users"]


def test_users_filter_matches_email_or_note(v1, make_user):
    bob = make_user("bob@example.com", note="Cape Town office")
    make_user("carol@other.org")
    dave = make_user("dave@capetown.example")
    body = v1.get("users/filter", filter_str="CAPE").json()
    assert body["result"] == "success"
    assert body["users"] == [_expected_user(bob), _expected_user(dave)]
    assert v1.get("users/filter", filter_str="nobody").json()["users"] == []


# --- refusals: status, exact message, nothing changed ---------------------------------------------------------

ADMIN = "admin@example.com"
LONG_EMAIL = "a" * 64 + "@" + "b" * 63 + "." + "c" * 63 + ".com"  # valid, but longer than a user name may be
X = {"email": "x@example.com", "access_level": "user"}
UNKNOWN = "User (ghost@example.com) does not exist."
BAD_EMAIL = "Invalid email address in email: 'not-an-email'"
BAD_BOOL = "Invalid boolean for {}: use true or false"
LAST_ADMIN = "Cannot {} the last active admin."
BAD_LEVEL = "Invalid access_level: must be 'admin' or 'user'"

USER_ENDPOINTS = [
    ("post", "user/note/add", {"note": "x"}),
    ("delete", "user/note/delete", {}),
    ("post", "user/edit", {"note": "x"}),
    ("post", "user/edit/access_level", {"access_level": "admin"}),
    ("post", "user/disable", {}),
    ("post", "user/enable", {}),
    ("post", "user/remove", {}),
    ("post", "user/2fa/disable", {}),
    ("post", "user/webauthn/disable", {}),
    ("post", "user/password/reset", {}),
    ("post", "user/summary_email/enable", {}),
    ("post", "user/summary_email/disable", {}),
    ("get", "user/get", {}),
    ("get", "user/auth", {}),
]
ENDPOINT_IDS = [path for _, path, _ in USER_ENDPOINTS]


@pytest.mark.parametrize(("method", "path", "params"), USER_ENDPOINTS, ids=ENDPOINT_IDS)
def test_user_endpoints_refuse_unknown_missing_and_invalid_emails(v1, ann, refused, method, path, params):
    refused(lambda: v1.send(method, path, email="ghost@example.com", **params), 404, UNKNOWN)
    refused(lambda: v1.send(method, path, **params), 400, "Missing parameter: email")
    refused(lambda: v1.send(method, path, email="", **params), 400, "Missing parameter: email")
    refused(lambda: v1.send(method, path, email="not-an-email", **params), 400, BAD_EMAIL)


@pytest.mark.parametrize(
    ("method", "path", "params", "status", "message"),
    [
        ("post", "user/add", {"access_level": "user"}, 400, "Missing parameter: email"),
        ("post", "user/add", {"email": "x@example.com"}, 400, "Missing parameter: access_level"),
        ("post", "user/add", {"email": "not-an-email", "access_level": "user"}, 400, BAD_EMAIL),
        ("post", "user/add", {**X, "email": "a@b@x.com"}, 400, "Invalid email address in email: 'a@b@x.com'"),
        ("post", "user/add", {"email": "x@example.com", "access_level": "root"}, 400, BAD_LEVEL),
        ("post", "user/add", {"email": "x@example.com", "access_level": "Admin"}, 400, BAD_LEVEL),
        ("post", "user/add", {**X, "send_welcome_mail": "maybe"}, 400, BAD_BOOL.format("send_welcome_mail")),
        ("post", "user/add", {**X, "totp_enabled": "2"}, 400, BAD_BOOL.format("totp_enabled")),
        ("post", "user/add", {**X, "note": "a\x00b"}, 400, "Invalid note: must not contain NUL characters"),
        ("post", "user/add", {**X, "email": LONG_EMAIL}, 400, "email longer than maximum (150 characters)."),
        ("post", "user/add", {**X, "email": "ANN@example.com"}, 409, "User (ann@example.com) already exists."),
        ("post", "user/note/add", {"email": "ann@example.com"}, 400, "Missing parameter: note"),
        ("post", "user/edit/access_level", {"email": "ann@example.com"}, 400, "Missing parameter: access_level"),
        ("post", "user/edit/access_level", {"email": "ann@example.com", "access_level": "superuser"}, 400, BAD_LEVEL),
        ("post", "user/remove", {"email": ADMIN}, 409, LAST_ADMIN.format("remove")),
        ("post", "user/disable", {"email": ADMIN}, 409, LAST_ADMIN.format("disable")),
        ("post", "user/edit/access_level", {"email": ADMIN, "access_level": "user"}, 409, LAST_ADMIN.format("demote")),
        ("get", "users/filter", {}, 400, "Missing parameter: filter_str"),
        ("get", "users/list", {"limit": "0"}, 400, "limit out of range"),
        ("get", "users/list", {"limit": "many"}, 400, "Invalid integer for limit"),
        ("get", "users/list", {"cursor": "garbage"}, 400, "Invalid cursor"),
    ],
)  # fmt: skip
def test_user_refusals(v1, ann, refused, method, path, params, status, message):
    refused(lambda: v1.send(method, path, **params), status, message)


def test_last_admin_rule_counts_only_active_admins(v1, make_user, refused):
    other = make_user("boss@example.com", access_level=AccessLevel.ADMIN)
    ok(
        v1.post("user/disable", email=other.email),
        {"msg": f"User ({other.email}) successfully disabled.", "result": "success"},
    )
    refused(lambda: v1.post("user/remove", email=ADMIN), 409, "Cannot remove the last active admin.")
    ok(
        v1.post("user/remove", email=other.email),
        {"msg": f"User ({other.email}) successfully removed.", "result": "success"},
    )
