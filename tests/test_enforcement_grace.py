"""The grace period of globally enforced 2FA (issue 14.1): one deadline per user in
``users/twofactor/policy.py``, counted from the switch for existing users and from the account's
creation for later ones, moved at once by a new period (GitLab bug 29702), and obeyed alike by
the API's password and token refusals, the pages' enrolment wall and the Django admin."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import INVALID, PASSWORD, basic, bearer, list_users, signed_in

from users import services
from users.models import OrgSetting, User
from users.twofactor.policy import (
    enrolment,
    enrolment_deadline,
    factor_required,
    needs_enrolment,
)

pytestmark = pytest.mark.django_db

ENROL = {
    "message": "Two-factor sign-in is required for your account: enrol a second factor on the "
    "portal's Security page before using the API."
}


def switched_on_ago(hours: float) -> None:
    """As if enforcement had gone on ``hours`` ago (the stored start, nothing else)."""
    OrgSetting.objects.filter(pk=1).update(enforced_since=timezone.now() - timedelta(hours=hours))


def joined_ago(user: User, hours: float) -> User:
    User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - timedelta(hours=hours))
    return User.objects.get(pk=user.pk)


def test_with_no_period_it_is_what_it_always_was(ann, system):
    assert enrolment_deadline(ann) is None and not factor_required(ann)
    services.set_global_2fa(system, True)
    assert OrgSetting.load().grace_period_hours == 0  # the default: an upgrade changes nothing
    assert factor_required(ann) and needs_enrolment(ann)
    assert enrolment_deadline(ann) == OrgSetting.load().enforced_since


def test_existing_users_count_from_the_switch_later_users_from_their_creation(
    ann, make_user, system
):
    ann = joined_ago(ann, 500)  # long before enforcement
    services.set_global_2fa(system, True, grace_period_hours=48)
    switched_on_ago(40)
    since = OrgSetting.load().enforced_since
    later = joined_ago(make_user("later@example.com"), 10)  # added 30 h after the switch
    assert enrolment_deadline(ann) == since + timedelta(hours=48)
    assert enrolment_deadline(later) == later.date_joined + timedelta(hours=48)
    assert not factor_required(ann) and not factor_required(later)
    assert enrolment(ann).in_grace and not enrolment(ann).must_enrol
    switched_on_ago(50)  # the existing user's 48 h are over; the later user has 38 h left
    assert factor_required(ann) and needs_enrolment(ann)
    assert not factor_required(later) and enrolment(later).in_grace
    later = joined_ago(later, 49)
    assert factor_required(later)


def test_shortening_the_period_applies_at_once_gitlab_29702(ann, system):
    """GitLab stored each user's deadline when their grace period began, so shortening the
    period later did not shorten it (gitlab-org/gitlab#29702). Here only the start is stored."""
    ann = joined_ago(ann, 500)
    services.set_global_2fa(system, True, grace_period_hours=72)
    switched_on_ago(30)
    assert not factor_required(ann)
    services.set_global_2fa(system, True, grace_period_hours=24)
    assert factor_required(ann)  # 30 h since the switch: past the new 24 h at once
    org = OrgSetting.load()
    assert enrolment_deadline(ann) == org.enforced_since + timedelta(hours=24)
    assert org.grace_period_ends() == enrolment_deadline(ann)  # what the org page and v1 say
    services.set_global_2fa(system, True, grace_period_hours=36)  # lengthening, likewise
    assert not factor_required(ann)
    assert OrgSetting.load().enforced_since == org.enforced_since  # the clock did not restart


def test_switching_off_and_on_again_starts_a_new_period(ann, system):
    ann = joined_ago(ann, 500)
    services.set_global_2fa(system, True, grace_period_hours=24)
    switched_on_ago(30)
    assert factor_required(ann)
    services.set_global_2fa(system, True)  # v1 enable again: the clock keeps running
    assert factor_required(ann)
    services.set_global_2fa(system, False)
    assert OrgSetting.load().enforced_since is None and enrolment_deadline(ann) is None
    services.set_global_2fa(system, True)
    assert OrgSetting.load().grace_period_hours == 24  # the period is kept while off
    assert not factor_required(ann) and enrolment(ann).in_grace


def test_a_user_added_with_2fa_required_has_no_grace(make_user, system):
    services.set_global_2fa(system, True, grace_period_hours=48)
    named = make_user("named@example.com", require_2fa=True)
    assert enrolment_deadline(named) == named.date_joined and factor_required(named)
    plain = make_user("plain@example.com")
    assert not factor_required(plain)


def test_a_factor_ends_the_grace_period_reminder(ann, system):
    services.set_global_2fa(system, True, grace_period_hours=48)
    assert enrolment(ann).in_grace
    TOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    assert not enrolment(ann).in_grace and not enrolment(ann).must_enrol


def test_bad_grace_periods_change_nothing(system):
    for bad in ("-1", "1.5", "8761", "abc", "٤٨", " ", "1e3"):
        with pytest.raises(services.InvalidInput, match="a whole number of hours from 0 to 8760"):
            services.set_global_2fa(system, True, grace_period_hours=bad)
    org = OrgSetting.load()
    assert (org.globally_enforce_2fa, org.grace_period_hours, org.enforced_since) == (
        False,
        0,
        None,
    )


# --- the faces move together ----------------------------------------------------------------


def test_the_api_takes_the_password_and_token_during_the_period_and_refuses_them_after(
    client, admin, admin_token, system
):
    admin = joined_ago(admin, 500)
    services.set_global_2fa(system, True, grace_period_hours=24)
    switched_on_ago(20)
    assert list_users(client, basic("admin", PASSWORD)).status_code == 200
    assert list_users(client, bearer(admin_token)).status_code == 200
    v1 = client.get("/api/v1/ping", {"auth_token": admin_token})
    assert v1.status_code == 200
    services.set_global_2fa(system, True, grace_period_hours=12)  # over, from this request on
    refused = list_users(client, basic("admin", PASSWORD))
    assert (refused.status_code, refused.json()) == (401, INVALID)
    token = list_users(client, bearer(admin_token))
    assert (token.status_code, token.json()) == (403, ENROL)
    v1 = client.get("/api/v1/ping", {"auth_token": admin_token})
    assert (v1.status_code, v1.json()) == (403, {"result": "error", **ENROL})


def test_the_pages_wall_moves_with_the_deadline_for_a_signed_in_user(ann, system):
    ann = joined_ago(ann, 500)
    services.set_global_2fa(system, True, grace_period_hours=24)
    switched_on_ago(20)
    browser = signed_in(ann)
    profile = reverse("user_detail", args=[ann.pk])
    assert browser.get(profile).status_code == 200
    switched_on_ago(25)  # the deadline passes while they are signed in
    assert browser.get(profile).url == reverse("security")  # at their next page


def test_sign_in_during_the_period_goes_where_it_was_going(ann, system):
    services.set_global_2fa(system, True, grace_period_hours=24)
    browser = Client()
    profile = reverse("user_detail", args=[ann.pk])
    response = browser.post(
        f"{reverse('login')}?next={profile}", {"login": "ann", "password": PASSWORD}
    )
    assert response.url == profile
    services.set_global_2fa(system, True, grace_period_hours=0)
    browser = Client()
    response = browser.post(
        f"{reverse('login')}?next={profile}", {"login": "ann", "password": PASSWORD}
    )
    assert response.url == reverse("security")


def test_the_django_admin_takes_an_admin_in_their_period_only(rechecked_admin, admin, system):
    index = reverse("admin:index")
    services.set_global_2fa(system, True, grace_period_hours=24)
    assert rechecked_admin.get(index).status_code == 200
    services.set_global_2fa(system, True, grace_period_hours=0)
    assert rechecked_admin.get(index).url == reverse("security")
