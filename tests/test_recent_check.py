"""Re-auth where an intruder with a stale session would go first (F12).

Granting admin (page or Django admin), adding an admin, switching enforcement off and every
POST in the Django admin need a password or factor check from the last
``PORTAL_REAUTH_SECONDS``. A stale session's POST, sent directly with a valid CSRF token,
goes to the re-auth page and back to a page to GET, and changes nothing; after the check
the same POST goes through, audited. Demoting, adding a plain user and switching
enforcement on do not ask.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from io import StringIO
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.test import Client, TestCase
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import PASSWORD, db_state, fresh_totp_code

from flocks.models import Flock
from users import services
from users.models import AuditEntry, OrgSetting, User
from users.twofactor.policy import has_second_factor
from users.twofactor.session import CHECKED_AT, VERIFIED

pytestmark = pytest.mark.django_db

STALE = settings.TWOFACTOR_REAUTH_SECONDS + 60


def browser(user: User, *, checked_ago: float = STALE) -> Client:
    """A CSRF-checking client signed in as ``user`` (with their factor, if they have one), whose
    last password or factor check was ``checked_ago`` seconds ago."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    session = client.session
    if has_second_factor(user):
        session[VERIFIED] = "authenticator app"
    session[CHECKED_AT] = time.time() - checked_ago
    session.save()
    return client


def post(client: Client, url: str, data: dict | None = None, *, form_page: str = ""):
    """POST with the CSRF token that the form's page hands out, as a browser would."""
    assert client.get(form_page or url).status_code == 200
    with TestCase.captureOnCommitCallbacks(execute=True):  # mails go out on commit
        return client.post(
            url, {**(data or {}), "csrfmiddlewaretoken": client.cookies["csrftoken"].value}
        )


def reauth_url(back: str) -> str:
    return f"{reverse('reauth')}?{urlencode({'next': back}, safe='/')}"


def confirm_with_password(client: Client, back: str) -> None:
    data = {"action": "password", "password": PASSWORD, "next": back}
    response = post(client, reauth_url(back), data)
    assert (response.status_code, response.url) == (302, back)


def ann_form(ann: User, **changes) -> dict:
    """The Django admin change form of ann as it is, with ``changes``."""
    return {
        "access_level": ann.access_level,
        "note": ann.note,
        "is_active": "on",
        "summary_email_enabled": "on",
    } | (changes)


def enforcement_on(admin: User, system) -> None:
    TOTPDevice.objects.create(
        user=admin, name="app", confirmed=True
    )  # or the admin would be sent to enrol
    services.set_global_2fa(system, True)


NEW_ADMIN = {
    "email": "new@example.com",
    "access_level": "admin",
    "note": "",
    "send_welcome_mail": "on",
}


@dataclass(frozen=True)
class Change:
    """A sensitive change: where it is posted, what is posted, the page it comes back to after the
    check, and what holds once it is done."""

    url: Callable[[User], str]
    data: Callable[[User], dict]
    back: Callable[[User], str]
    done: Callable[[User], None]
    setup: Callable[[User, object], None] = lambda admin, system: None


def _granted(ann: User) -> None:
    ann.refresh_from_db()
    assert ann.is_admin
    entry = AuditEntry.objects.get(action_type="user_access_level_change", target_label=ann.label)
    assert entry.additional_information == {"before": "user", "after": "admin"}


def _admin_added(ann: User) -> None:
    assert User.objects.get(email="new@example.com").is_admin
    assert (
        AuditEntry.objects.filter(action_type="user_add", target_label="new@example.com").count()
        == 1
    )
    call_command("send_queued_mail", "--once", stdout=StringIO())
    assert [message.to for message in mail.outbox] == [["new@example.com"]]


def _enforcement_off(ann: User) -> None:
    assert not OrgSetting.load().globally_enforce_2fa
    assert AuditEntry.objects.filter(action_type="globally_enforce_2fa_disable").count() == 1


def _grace_lengthened(ann: User) -> None:
    assert OrgSetting.load().grace_period_hours == 48
    assert AuditEntry.objects.filter(action_type="globally_enforce_2fa_grace_period").count() == 1


def _disabled(ann: User) -> None:
    ann.refresh_from_db()
    assert not ann.is_active
    assert (
        AuditEntry.objects.filter(action_type="user_disable", target_label=ann.label).count() == 1
    )


def _removed(ann: User) -> None:
    assert not User.objects.filter(pk=ann.pk).exists()
    assert (
        AuditEntry.objects.filter(action_type="user_remove", target_label="ann@example.com").count()
        == 1
    )


def _flock_created(ann: User) -> None:
    assert Flock.objects.filter(name="Lagos").exists()
    assert AuditEntry.objects.filter(action_type="flock_create").count() == 1


def _org_change_url(ann: User) -> str:
    return reverse("admin:users_orgsetting_change", args=[OrgSetting.load().pk])


CHANGES = {
    "page: grant admin": Change(
        url=lambda ann: reverse("user_access_level", args=[ann.pk]),
        data=lambda ann: {"access_level": "admin"},
        back=lambda ann: reverse("user_detail", args=[ann.pk]),
        done=_granted,
    ),
    "page: add an admin": Change(
        url=lambda ann: reverse("user_add"),
        data=lambda ann: NEW_ADMIN,
        back=lambda ann: reverse("user_add"),
        done=_admin_added,
    ),
    "page: enforcement off": Change(
        url=lambda ann: reverse("org_settings"),
        data=lambda ann: {},
        back=lambda ann: reverse("org_settings"),
        done=_enforcement_off,
        setup=enforcement_on,
    ),
    "page: longer grace period": Change(
        url=lambda ann: reverse("org_settings"),
        data=lambda ann: {"globally_enforce_2fa": "on", "grace_period_hours": "48"},
        back=lambda ann: reverse("org_settings"),
        done=_grace_lengthened,
        setup=enforcement_on,
    ),
    "admin: grant admin": Change(
        url=lambda ann: reverse("admin:users_user_change", args=[ann.pk]),
        data=lambda ann: ann_form(ann, access_level="admin"),
        back=lambda ann: reverse("admin:users_user_change", args=[ann.pk]),
        done=_granted,
    ),
    "admin: add an admin": Change(
        url=lambda ann: reverse("admin:users_user_add"),
        data=lambda ann: NEW_ADMIN,
        back=lambda ann: reverse("admin:users_user_add"),
        done=_admin_added,
    ),
    "admin: enforcement off": Change(
        url=_org_change_url,
        data=lambda ann: {"grace_period_hours": "0"},
        back=_org_change_url,
        done=_enforcement_off,
        setup=enforcement_on,
    ),
    "admin: bulk disable": Change(
        url=lambda ann: reverse("admin:users_user_changelist"),
        data=lambda ann: {"action": "disable_users", "_selected_action": [ann.pk]},
        back=lambda ann: reverse("admin:users_user_changelist"),
        done=_disabled,
    ),
    "admin: delete": Change(
        url=lambda ann: reverse("admin:users_user_delete", args=[ann.pk]),
        data=lambda ann: {"post": "yes"},
        back=lambda ann: reverse("admin:users_user_delete", args=[ann.pk]),
        done=_removed,
    ),
    "admin: add a flock": Change(
        url=lambda ann: reverse("admin:flocks_flock_add"),
        data=lambda ann: {"name": "Lagos", "note": ""},
        back=lambda ann: reverse("admin:flocks_flock_add"),
        done=_flock_created,
    ),
}


@pytest.mark.parametrize("name", CHANGES)
def test_a_stale_session_is_sent_to_confirm_and_changes_nothing_until_it_does(
    admin, ann, system, name
):
    change = CHANGES[name]
    change.setup(admin, system)
    client = browser(admin)
    url, data, back = change.url(ann), change.data(ann), change.back(ann)
    before = db_state()
    response = post(client, url, data, form_page=back)
    assert (response.status_code, response.url) == (302, reauth_url(back))
    assert db_state() == before
    assert "Nothing was changed yet: confirm it is you" in client.get(response.url).content.decode()
    confirm_with_password(client, back)
    response = post(client, url, data, form_page=back)
    assert response.status_code == 302 and not response.url.startswith(reverse("reauth"))
    change.done(ann)


def test_a_check_just_inside_the_window_is_enough(admin, ann):
    client = browser(admin, checked_ago=settings.TWOFACTOR_REAUTH_SECONDS - 30)
    url = reverse("user_access_level", args=[ann.pk])
    response = post(
        client, url, {"access_level": "admin"}, form_page=reverse("user_detail", args=[ann.pk])
    )
    assert response.url == reverse("user_detail", args=[ann.pk])
    _granted(ann)


def test_demoting_adding_a_user_and_enforcing_need_no_fresh_check(admin, ann, make_user, system):
    bob = make_user("bob@example.com", access_level="admin")
    client = browser(admin)
    url, profile = (
        reverse("user_access_level", args=[bob.pk]),
        reverse("user_detail", args=[bob.pk]),
    )
    response = post(client, url, {"access_level": "user"}, form_page=profile)
    assert response.url == profile
    bob.refresh_from_db()
    assert not bob.is_admin
    response = post(client, reverse("user_add"), NEW_ADMIN | {"access_level": "user"})
    assert response.status_code == 302
    assert not User.objects.get(email="new@example.com").is_admin
    TOTPDevice.objects.create(user=admin, name="app", confirmed=True)
    confirmed = {"globally_enforce_2fa": "on", "grace_period_hours": "0", "confirmed": "on"}
    assert post(client, reverse("org_settings"), confirmed).url == reverse("org_settings")
    assert OrgSetting.load().globally_enforce_2fa
    assert AuditEntry.objects.filter(action_type="globally_enforce_2fa_enable").count() == 1


def test_refused_before_the_check_is_asked(client, ann, make_user):
    """A plain user's forged grant is a 403 and a visitor goes to sign in, stale or not."""
    bob = make_user("bob@example.com")
    url = reverse("user_access_level", args=[bob.pk])
    own_page = reverse("user_detail", args=[ann.pk])
    assert post(browser(ann), url, {"access_level": "admin"}, form_page=own_page).status_code == 403
    for path in (url, reverse("user_add"), reverse("org_settings")):
        assert client.post(path, {"access_level": "admin"}).url.startswith(reverse("login"))
    bob.refresh_from_db()
    assert not bob.is_admin


def test_signing_out_of_the_django_admin_needs_no_check(admin):
    client = browser(admin)
    response = post(client, reverse("admin:logout"), form_page=reverse("admin:index"))
    assert (response.status_code, response.url) == (302, reverse("login"))
    assert client.get(reverse("admin:index")).url.startswith(reverse("admin:login"))


def test_an_admin_with_totp_confirms_with_a_code_in_the_django_admin(admin, ann):
    """Through the real sign-in (password, then a TOTP code), then a stale check."""
    device = TOTPDevice.objects.create(user=admin, name="app", confirmed=True)
    client = Client(enforce_csrf_checks=True)
    post(client, reverse("login"), {"login": "admin", "password": PASSWORD})
    response = post(
        client, reverse("login_verify"), {"action": "code", "code": fresh_totp_code(device)}
    )
    assert response.status_code == 302
    session = client.session
    session[CHECKED_AT] = time.time() - STALE
    session.save()
    url = reverse("admin:users_user_change", args=[ann.pk])
    before = db_state()
    response = post(client, url, ann_form(ann, access_level="admin"))
    assert (response.status_code, response.url) == (302, reauth_url(url))
    assert db_state() == before
    response = post(
        client, reauth_url(url), {"action": "code", "code": fresh_totp_code(device), "next": url}
    )
    assert (response.status_code, response.url) == (302, url)
    assert post(client, url, ann_form(ann, access_level="admin")).status_code == 302
    _granted(ann)
