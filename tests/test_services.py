"""The service layer's rules, called directly as every face calls them."""

import threading

import pytest
from django.apps import apps
from django.core import mail
from django.db import connections, transaction
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from flocks import services as flocks
from flocks.models import DEFAULT_FLOCK_ID, Flock, FlockMembership, FlockRole
from portal.api.params import split_list
from portal.lib.errors import Conflict, InvalidInput, NotFound
from users import services
from users.hashers import bcrypt_check
from users.models import AccessLevel, AuditEntry, OrgSetting, OutboxMail, User, WebAuthnCredential

pytestmark = pytest.mark.django_db


def audit_types() -> list[str]:
    return list(AuditEntry.objects.order_by("id").values_list("action_type", flat=True))


# --- adding users ---------------------------------------------------------------------------------


def test_add_user_queues_its_welcome_mail_in_its_transaction(system, sent_mail):
    user = services.add_user(
        system, email=" Ann@Example.COM ", access_level="user", require_2fa=True
    )
    assert (user.username, user.email, user.must_enroll_2fa) == (
        "ann@example.com",
        "ann@example.com",
        True,
    )
    assert list(OutboxMail.objects.values_list("user", "kind", "status", "requested_by")) == [
        (user.pk, "welcome", "queued", "tests")
    ]
    assert mail.outbox == []  # the worker sends it
    assert [m.to for m in sent_mail()] == [["ann@example.com"]]
    assert audit_types() == ["user_add"]


def test_a_rolled_back_add_queues_no_mail(system, sent_mail):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.add_user(system, email="ann@example.com", access_level="user")
        raise RuntimeError("the caller's transaction fails")
    assert not User.objects.exists() and not OutboxMail.objects.exists() and sent_mail() == []


def test_add_user_without_welcome_mail(system, sent_mail):
    services.add_user(
        system, email="ann@example.com", access_level="admin", send_welcome_mail=False
    )
    assert not OutboxMail.objects.exists() and sent_mail() == []


@pytest.mark.parametrize(
    ("email", "access_level", "error", "message"),
    [
        ("ANN@example.com", "user", Conflict, "User (ann@example.com) already exists."),
        ("", "user", InvalidInput, "Missing parameter: email"),
        ("ann", "user", InvalidInput, "Invalid email address in email: 'ann'"),
        ("b@example.com", "owner", InvalidInput, "Invalid access_level: must be 'admin' or 'user'"),
        (
            "a" * 64 + "@" + "b" * 60 + "." + "c" * 30 + ".com",
            "user",
            InvalidInput,
            "email longer than maximum (150 characters).",
        ),
    ],
)
def test_add_user_refusals(system, ann, email, access_level, error, message):
    before = (User.objects.count(), AuditEntry.objects.count())
    with pytest.raises(error) as raised:
        services.add_user(system, email=email, access_level=access_level)
    assert raised.value.message == message
    assert (User.objects.count(), AuditEntry.objects.count()) == before


def test_add_user_refuses_an_email_taken_as_a_user_name(system):
    services.create_named_user(
        system, username="bob@example.com", password="a long enough password 1"
    )
    with pytest.raises(Conflict, match=r"User \(bob@example.com\) already exists\."):
        services.add_user(system, email="bob@example.com", access_level="user")


# --- the last active admin ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "verb"),
    [
        (lambda actor, user: services.remove_user(actor, user), "remove"),
        (lambda actor, user: services.set_active(actor, user, False), "disable"),
        (lambda actor, user: services.set_access_level(actor, user, AccessLevel.USER), "demote"),
    ],
    ids=["remove", "disable", "demote"],
)
def test_last_active_admin_is_kept(system, admin, make_user, action, verb):
    other = make_user("other@example.com", access_level=AccessLevel.ADMIN)
    services.set_active(system, other, False)  # a disabled admin does not count
    make_user("plain@example.com")
    entries = AuditEntry.objects.count()
    with pytest.raises(Conflict, match=f"^Cannot {verb} the last active admin.$"):
        action(system, admin)
    admin.refresh_from_db()
    assert (admin.is_active, admin.access_level) == (True, AccessLevel.ADMIN)
    assert AuditEntry.objects.count() == entries
    services.set_active(system, other, True)
    action(system, admin)  # with a second active admin it is allowed


def test_refuse_if_last_active_admin_names_the_rule(system, admin, make_user):
    """The rule alone: a plain user or one admin among two passes (and comes back locked); the last
    refuses."""
    plain = make_user("plain@example.com")
    with transaction.atomic():
        assert services.refuse_if_last_active_admin(plain, "remove") == plain
        with pytest.raises(Conflict, match=r"^Cannot remove the last active admin\.$"):
            services.refuse_if_last_active_admin(admin, "remove")
    make_user("other@example.com", access_level=AccessLevel.ADMIN)
    with transaction.atomic():
        assert services.refuse_if_last_active_admin(admin, "remove") == admin


# Threads need committed rows. Listing the apps keeps the flush after the test from re-creating
# content types, which would collide with the next serialized-rollback test's reload.
@pytest.mark.django_db(
    transaction=True, available_apps=[app.name for app in apps.get_app_configs()]
)
def test_two_admins_demoting_each_other_at_once(system):
    """One wins, the other is refused; neither hits a deadlock (which PostgreSQL showed in about one
    race in five)."""

    def demote(user: User, outcomes: dict, start: threading.Barrier) -> None:
        try:
            start.wait()
            services.set_access_level(system, user, AccessLevel.USER)
            outcomes[user.username] = "demoted"
        except Conflict:
            outcomes[user.username] = "refused"
        finally:
            connections.close_all()

    for _ in range(10):
        User.objects.update(is_active=False)
        pair = [
            User.objects.create_superuser(username=name, email=f"{name}@example.com")
            for name in ("a", "b")
        ]
        outcomes, start = {}, threading.Barrier(2)
        threads = [threading.Thread(target=demote, args=(user, outcomes, start)) for user in pair]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(outcomes.values()) == ["demoted", "refused"]
        assert User.objects.filter(is_active=True, access_level=AccessLevel.ADMIN).count() == 1
        User.objects.filter(pk__in=[user.pk for user in pair]).delete()


def test_disabled_or_plain_users_are_not_protected(system, admin, make_user):
    disabled_admin = make_user("da@example.com", access_level=AccessLevel.ADMIN)
    services.set_active(system, disabled_admin, False)
    services.set_access_level(system, disabled_admin, AccessLevel.USER)
    services.remove_user(system, disabled_admin)
    assert not User.objects.filter(email="da@example.com").exists()


# --- other user rules -----------------------------------------------------------------------------


@pytest.mark.parametrize("choice", [False, True])
def test_set_active_keeps_the_users_summary_mail_choice(system, ann, choice):
    services.set_summary_email(system, ann, choice)
    services.set_active(system, ann, False)
    ann.refresh_from_db()
    assert (ann.is_active, ann.summary_email_enabled) == (False, choice)
    services.set_active(system, ann, True)
    ann.refresh_from_db()
    assert (ann.is_active, ann.summary_email_enabled) == (True, choice)


def test_set_access_level_audits_before_and_after(system, ann):
    services.set_access_level(system, ann, AccessLevel.ADMIN)
    entry = AuditEntry.objects.latest("id")
    assert entry.additional_information == {"before": "user", "after": "admin"}
    with pytest.raises(InvalidInput):
        services.set_access_level(system, ann, "root")


def test_notes_refuse_nul(system, ann):
    with pytest.raises(InvalidInput, match="note must not contain NUL characters"):
        services.set_note(system, ann, "a\x00b")
    ann.refresh_from_db()
    assert ann.note == "night shift"


def test_reset_password_queues_a_mail_sent_by_the_worker(system, ann, sent_mail):
    services.reset_password(system, ann)
    assert list(OutboxMail.objects.values_list("kind", "status")) == [("password_reset", "queued")]
    sent = sent_mail()
    assert [m.to for m in sent] == [["ann@example.com"]]
    assert "/accounts/reset/" in sent[0].body


def test_reset_password_needs_an_email(system):
    user = services.create_named_user(
        system, username="noemail", password="a long enough password 1"
    )
    with pytest.raises(InvalidInput, match=r"User \(noemail\) has no email address\."):
        services.reset_password(system, user)


def test_disable_totp_keeps_recovery_codes_while_a_key_remains(system, ann):
    TOTPDevice.objects.create(user=ann, name="phone", confirmed=True)
    StaticDevice.objects.create(user=ann, name="backup")
    WebAuthnCredential.objects.create(user=ann, name="key", credential_id="c", public_key=b"k")
    assert services.disable_totp(system, ann) == 1
    assert StaticDevice.objects.filter(user=ann).exists()
    assert services.disable_webauthn(system, ann) == 1
    assert not StaticDevice.objects.filter(user=ann).exists()


def test_global_2fa(system):
    services.set_global_2fa(system, True)
    assert OrgSetting.load().globally_enforce_2fa is True
    services.set_global_2fa(system, False)
    assert OrgSetting.load().globally_enforce_2fa is False
    assert audit_types() == ["globally_enforce_2fa_enable", "globally_enforce_2fa_disable"]


def test_api_token_is_stored_only_as_a_hash(system, ann):
    token = services.issue_api_token(system, ann)
    ann.refresh_from_db()
    assert token not in (ann.api_token_hash, ann.api_token_index)
    assert bcrypt_check(token, ann.api_token_hash)
    services.issue_api_token(system, ann)
    ann.refresh_from_db()
    assert not bcrypt_check(token, ann.api_token_hash)


# --- flocks ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [("  Cape Town ", "Cape Town"), ("x" * 100, "x" * 100)],
)
def test_flock_names(name, expected):
    assert flocks.clean_flock_name(name) == expected


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "Flock name cannot be empty."),
        ("   ", "Flock name cannot be empty."),
        (None, "Flock name cannot be empty."),
        ("x" * 101, "Flock name longer than maximum (100 characters)."),
        ("a\x00b", "Flock name must not contain NUL characters."),
    ],
)
def test_bad_flock_names(name, message):
    with pytest.raises(InvalidInput) as raised:
        flocks.clean_flock_name(name)
    assert raised.value.message == message


def test_split_list():
    assert split_list(" a, b,,a , c ") == ["a", "b", "c"]
    assert split_list("") == [] and split_list(None) == []


def test_get_flocks_is_all_or_nothing(flock):
    assert flocks.get_flocks([flock.flock_id, DEFAULT_FLOCK_ID]) == [
        flock,
        Flock.objects.get(pk=DEFAULT_FLOCK_ID),
    ]
    with pytest.raises(NotFound, match=r"^Flock does not exist\.$"):
        flocks.get_flocks([DEFAULT_FLOCK_ID, "flock:nope"])


def test_users_by_email_dedupes_and_names_the_first_unknown(ann, make_user):
    bob = make_user("bob@example.com")
    assert flocks.users_by_email(
        ["BOB@example.com", "ann@example.com", "bob@example.com"], "emails"
    ) == [bob, ann]
    with pytest.raises(NotFound, match=r"^User \(x@example.com\) does not exist\.$"):
        flocks.users_by_email(["ann@example.com", "x@example.com", "y@example.com"], "emails")


def test_create_flock_refuses_a_user_in_both_roles(system, ann):
    entries = AuditEntry.objects.count()
    with pytest.raises(InvalidInput, match="both manager and watcher"):
        flocks.create_flock(system, "Cape Town", managers=[ann], watchers=[ann])
    assert (Flock.objects.count(), AuditEntry.objects.count()) == (1, entries)


def test_default_flock_is_never_deleted(system):
    with pytest.raises(Conflict, match=r"^Cannot delete default flock$"):
        flocks.delete_flock(system, Flock.objects.get(pk=DEFAULT_FLOCK_ID))
    assert Flock.objects.filter(pk=DEFAULT_FLOCK_ID).exists()


def test_one_role_per_flock(system, ann, flock):
    flocks.assign_user(system, ann, [flock], FlockRole.WATCHER)
    flocks.assign_user(system, ann, [flock], FlockRole.MANAGER)
    assert list(FlockMembership.objects.values_list("role", flat=True)) == ["manager"]
    flocks.unassign_user(
        system, ann, [flock], FlockRole.WATCHER
    )  # not a watcher: nothing to remove
    assert FlockMembership.objects.count() == 1
    flocks.unassign_user(system, ann, [flock], FlockRole.MANAGER)
    assert FlockMembership.objects.count() == 0


def test_set_flock_members_replaces_one_role_only(system, ann, make_user, flock):
    bob, carol = make_user("bob@example.com"), make_user("carol@example.com")
    flocks.assign_user(system, ann, [flock], FlockRole.MANAGER)
    flocks.assign_user(system, carol, [flock], FlockRole.WATCHER)
    flocks.set_flock_members(system, flock, FlockRole.MANAGER, [bob])
    members = flocks.flock_members(flock)
    assert (members["managers"], members["watchers"]) == ([bob], [carol])
    with pytest.raises(InvalidInput, match="Invalid role"):
        flocks.set_flock_members(system, flock, "owner", [bob])


def test_deleting_a_flock_takes_its_memberships(system, ann, flock):
    flocks.assign_user(
        system, ann, [flock, Flock.objects.get(pk=DEFAULT_FLOCK_ID)], FlockRole.WATCHER
    )
    flocks.delete_flock(system, flock)
    assert list(FlockMembership.objects.values_list("flock_id", flat=True)) == [DEFAULT_FLOCK_ID]
