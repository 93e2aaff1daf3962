"""A user's page offers only what can apply (issue 15.4): resets of factors the user has, no
disable, remove or reset of yourself — each shown disabled with the reason, and refused by the
server with the same words, changing nothing. "Disable user" asks first and says it signs them
out; disabling and enabling keep the user's summary-mail choice. "2FA required" says why, from
``users.twofactor.policy``, with the deadline during a grace period."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import db_state, signed_in

from users import services, unavailable
from users.models import AccessLevel, OrgSetting, User, WebAuthnCredential

pytestmark = pytest.mark.django_db

RESETS = ("user_reset_totp", "user_reset_webauthn")


def profile(client, user) -> str:
    return client.get(reverse("user_detail", args=[user.pk])).content.decode()


@pytest.fixture
def other_admin(make_user) -> User:
    """A second active admin: the last-admin rule would let the first one go."""
    return make_user("second@example.com", access_level=AccessLevel.ADMIN)


@pytest.fixture
def ann_with_factors(ann) -> User:
    TOTPDevice.objects.create(user=ann, name="phone", confirmed=True)
    WebAuthnCredential.objects.create(user=ann, name="Blue key", credential_id="k", public_key=b"x")
    return ann


def test_your_own_page_offers_no_disable_remove_or_reset(rechecked_admin, admin, other_admin):
    TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    page = profile(rechecked_admin, admin)
    for name in ("user_disable", "user_remove", *RESETS):
        assert reverse(name, args=[admin.pk]) not in page
    assert 'disabled aria-describedby="why-disable">Disable user…</button>' in page
    assert 'disabled aria-describedby="why-remove">Remove user…</button>' in page
    assert 'disabled aria-describedby="why-reset-app">Reset authenticator app…</button>' in page
    for reason in (unavailable.OWN_DISABLE, unavailable.OWN_REMOVE, unavailable.OWN_FACTORS):
        assert reason in page
    assert f'href="{reverse("security")}">Open Security</a>' in page


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("user_active", {"active": "0"}, unavailable.OWN_DISABLE),
        ("user_disable", {}, unavailable.OWN_DISABLE),
        ("user_remove", {}, unavailable.OWN_REMOVE),
        ("user_reset_totp", {}, unavailable.OWN_FACTORS),
        ("user_reset_webauthn", {}, unavailable.OWN_FACTORS),
    ],
)
def test_the_server_refuses_them_on_yourself(
    rechecked_admin, admin, other_admin, name, data, reason
):
    TOTPDevice.objects.create(user=admin, name="phone", confirmed=True)
    WebAuthnCredential.objects.create(user=admin, name="key", credential_id="k", public_key=b"x")
    url = reverse(name, args=[admin.pk])
    if name != "user_active":  # a confirmation page: it says so instead of offering the button
        page = rechecked_admin.get(url).content.decode()
        assert reason in page and 'type="submit"' not in page.split("<main")[1]
    before = db_state()
    response = rechecked_admin.post(url, data, follow=True)
    assert f"{reason} Nothing was changed." in response.content.decode()
    assert db_state() == before


def test_resets_of_factors_a_user_lacks_are_disabled_and_refused(rechecked_admin, ann):
    page = profile(rechecked_admin, ann)
    for name in RESETS:
        assert reverse(name, args=[ann.pk]) not in page
    assert "ann@example.com has no authenticator app to reset." in page
    assert "ann@example.com has no security keys to reset." in page
    before = db_state()
    for name, reason in zip(RESETS, ("no authenticator app", "no security keys"), strict=True):
        response = rechecked_admin.post(reverse(name, args=[ann.pk]), follow=True)
        assert f"ann@example.com has {reason} to reset. Nothing was changed." in (
            response.content.decode()
        )
    assert db_state() == before


def test_resets_of_factors_a_user_has_are_offered(rechecked_admin, ann_with_factors):
    page = profile(rechecked_admin, ann_with_factors)
    for name in ("user_disable", "user_remove", *RESETS):
        assert reverse(name, args=[ann_with_factors.pk]) in page
    assert " disabled aria-describedby" not in page


def test_disable_asks_first_and_says_it_signs_them_out(rechecked_admin, ann):
    ann_session = signed_in(ann)
    url = reverse("user_disable", args=[ann.pk])
    assert f'href="{url}">Disable user…</a>' in profile(rechecked_admin, ann)
    page = rechecked_admin.get(url).content.decode()
    assert "Disable ann@example.com?" in page and "is signed out everywhere at once" in page
    ann.refresh_from_db()
    assert ann.is_active  # asking changed nothing
    response = rechecked_admin.post(url, follow=True)
    assert "Disabled ann@example.com and signed them out." in response.content.decode()
    ann.refresh_from_db()
    assert not ann.is_active
    assert ann_session.get(reverse("user_detail", args=[ann.pk])).status_code == 302


def test_disable_and_enable_keep_the_summary_mail_choice(rechecked_admin, ann, system):
    services.set_summary_email(system, ann, False)
    rechecked_admin.post(reverse("user_disable", args=[ann.pk]))
    rechecked_admin.post(reverse("user_active", args=[ann.pk]), {"active": "1"})
    ann.refresh_from_db()
    assert (ann.is_active, ann.summary_email_enabled) == (True, False)


def required(client, user) -> str:
    """The "2FA required" row as read (tags dropped)."""
    page = profile(client, user)
    return re.sub(r"<[^>]+>", "", page.split('data-testid="2fa-required">')[1].split("</dd>")[0])


def test_2fa_required_says_why_and_until_when(rechecked_admin, ann, make_user, system):
    assert required(rechecked_admin, ann) == "No"
    carol = make_user("carol@example.com", require_2fa=True)
    assert required(rechecked_admin, carol) == "Yes (set when added)"
    services.set_global_2fa(system, True, grace_period_hours=48)
    User.objects.filter(pk=ann.pk).update(date_joined=timezone.now() - timedelta(days=30))
    ends = OrgSetting.load().grace_period_ends()
    assert (
        required(rechecked_admin, ann)
        == f"Yes (org-wide), from {ends:%Y-%m-%d %H:%M} UTC (in 1 day)"
    )
    OrgSetting.objects.filter(pk=1).update(enforced_since=timezone.now() - timedelta(hours=49))
    assert required(rechecked_admin, ann) == "Yes (org-wide)"
    assert required(rechecked_admin, carol) == "Yes (set when added)"


@pytest.mark.parametrize(
    "action, reason",
    [
        ("disable_users", unavailable.OWN_DISABLE),
        ("remove_users", unavailable.OWN_REMOVE),
        ("reset_totp", unavailable.OWN_FACTORS),
        ("reset_webauthn", unavailable.OWN_FACTORS),
    ],
)
def test_the_django_admin_refuses_them_on_yourself_too(
    rechecked_admin, admin, other_admin, ann_with_factors, action, reason
):
    before = db_state()
    response = rechecked_admin.post(
        reverse("admin:users_user_changelist"),
        {"action": action, "_selected_action": [ann_with_factors.pk, admin.pk]},
        follow=True,
    )
    assert reason in response.content.decode()
    assert db_state() == before  # ann, selected with you, is left as she was too


def test_the_django_admin_change_form_and_delete_refuse_yourself(
    rechecked_admin, admin, other_admin
):
    before = db_state()
    change = reverse("admin:users_user_change", args=[admin.pk])
    form = {"access_level": "admin", "note": "", "summary_email_enabled": "on"}  # not active
    response = rechecked_admin.post(change, form, follow=True)
    assert unavailable.OWN_DISABLE in response.content.decode()
    delete = reverse("admin:users_user_delete", args=[admin.pk])
    response = rechecked_admin.post(delete, {"post": "yes"}, follow=True)
    assert unavailable.OWN_REMOVE in response.content.decode()
    assert db_state() == before
