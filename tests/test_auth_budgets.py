"""One set of sign-in budgets for the pages and the API (F4, F13), a disabled user's right password
answering as a wrong one (F6), and names that match no user kept out of the logs as typed."""

from __future__ import annotations

import re

import bcrypt
import pytest
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import PASSWORD, basic, call, totp_code

from users import services
from users.models import AccessLevel, AuditEntry

pytestmark = pytest.mark.django_db

MASK = re.compile(r"unknown name #[0-9a-f]{16}")


def page(ip: str, login: str, password: str = PASSWORD):
    return Client(REMOTE_ADDR=ip).post("/login/", {"login": login, "password": password})


def api(client: Client, ip: str, login: str, password: str = PASSWORD):
    return call(client, "GET", "users", auth=basic(login, password), remote_addr=ip)


def paused(response) -> bool:
    """429 with a Retry-After within the window (the answer comes at once: no server-side sleep)."""
    wait = response.get("Retry-After", "")
    return response.status_code == 429 and wait.isdigit() and 0 < int(wait) <= 900


# --- the account budget: one per resolved account, shared by both faces ----------------------


def test_page_and_api_failures_share_one_budget_per_account(client, admin_ann, admin, settings):
    settings.AUTH_ACCOUNT_FAILURE_LIMIT = 4
    # Four guesses from four addresses, under four spellings of one account, on both faces.
    assert page("10.0.0.1", "ann@example.com", "guess 1").status_code == 200
    assert page("10.0.0.2", "ANN@example.com", "guess 2").status_code == 200
    assert api(client, "10.0.0.3", "Ann@Example.com", "guess 3").status_code == 401
    assert api(client, "10.0.0.4", "ann@EXAMPLE.COM", "guess 4").status_code == 401
    # Now the right password waits on both faces, from any address; no oracle.
    response = page("10.0.0.5", "ann@example.com")
    assert paused(response) and "Signing in is paused" in response.content.decode()
    assert paused(api(client, "10.0.0.6", "ann@example.com"))
    # Other accounts are not affected.
    assert page("10.0.0.5", "admin", PASSWORD).status_code == 302


def test_the_second_step_is_paused_with_the_account(admin_ann, settings, system):
    device = TOTPDevice.objects.create(user=admin_ann, name="phone", confirmed=True)
    settings.AUTH_ACCOUNT_FAILURE_LIMIT = 2
    browser = Client(REMOTE_ADDR="10.0.1.1")
    assert (
        browser.post("/login/", {"login": "ann@example.com", "password": PASSWORD}).url
        == "/login/verify/"
    )
    page("10.0.1.2", "ann@example.com", "guess 1")
    page("10.0.1.3", "ann@example.com", "guess 2")
    assert paused(browser.post("/login/verify/", {"action": "code", "code": totp_code(device)}))


# --- the (account, address) pair: django-axes, fed by both faces -----------------------------


def test_api_password_failures_lock_the_pair_for_the_page(client, admin_ann, settings):
    settings.AXES_FAILURE_LIMIT = 3
    for n in range(3):
        assert api(client, "10.0.2.1", "ann@example.com", f"guess {n}").status_code == 401
    assert paused(page("10.0.2.1", "ann@example.com"))
    assert paused(api(client, "10.0.2.1", "ann@example.com"))
    assert AccessAttempt.objects.get().failures_since_start == 3
    assert AuditEntry.objects.filter(
        action_type="user_locked_out", target_label="ann@example.com"
    ).exists()
    # The owner elsewhere is not locked out.
    assert page("10.0.2.2", "ann@example.com").status_code == 302
    assert api(client, "10.0.2.3", "ann@example.com").status_code == 200


def test_page_failures_lock_the_pair_for_the_api(client, admin_ann, settings):
    settings.AXES_FAILURE_LIMIT = 2
    page("10.0.3.1", "ann@example.com", "guess 1")
    page("10.0.3.1", "ANN@example.com", "guess 2")
    assert paused(api(client, "10.0.3.1", "ann@example.com"))
    assert api(client, "10.0.3.2", "ann@example.com").status_code == 200


# --- the address budget: well above the pair limit -------------------------------------------


def test_the_address_budget_is_well_above_the_pair_limit():
    assert django_settings.AUTH_ADDRESS_FAILURE_LIMIT >= 5 * django_settings.AXES_FAILURE_LIMIT
    assert django_settings.AUTH_ACCOUNT_FAILURE_LIMIT > django_settings.AUTH_ADDRESS_FAILURE_LIMIT


def test_one_persons_typos_do_not_pause_their_neighbours(
    client, admin_ann, make_user, system, settings
):
    """Behind one address: one user locks only themselves; only many failures pause the address."""
    settings.AXES_FAILURE_LIMIT, settings.AUTH_ADDRESS_FAILURE_LIMIT = 2, 5
    bob = make_user("bob@example.com", access_level=AccessLevel.ADMIN)
    services.update_credentials(system, bob, password=PASSWORD)
    office = "10.0.4.1"
    page(office, "bob@example.com", "typo 1")
    page(office, "bob@example.com", "typo 2")
    assert paused(page(office, "bob@example.com"))
    assert page(office, "ann@example.com").status_code == 302  # a neighbour
    api(client, office, "nobody", "x")
    api(client, office, "carl", "x")
    page(office, "dora", "x")  # five failures from this address now
    assert paused(page(office, "ann@example.com"))
    assert paused(api(client, office, "ann@example.com"))
    assert page("10.0.4.2", "ann@example.com").status_code == 302


# --- F6: a disabled user's right password answers as a wrong one ------------------------------


@pytest.fixture
def bcrypt_checks(monkeypatch) -> list[bytes]:
    calls: list[bytes] = []
    real = bcrypt.checkpw
    monkeypatch.setattr(
        bcrypt, "checkpw", lambda password, hashed: calls.append(password) or real(password, hashed)
    )
    return calls


def test_a_disabled_users_right_password_answers_as_a_wrong_one(
    client, admin_ann, admin, system, settings, bcrypt_checks
):
    settings.AUTH_ACCOUNT_FAILURE_LIMIT = 4
    assert api(client, "10.0.5.1", "ann@example.com").status_code == 200  # remembered while active
    services.set_active(system, admin_ann, False)
    bcrypt_checks.clear()
    wrong = api(client, "10.0.5.2", "ann@example.com", "a wrong one")
    for n in range(3):
        right = api(client, f"10.0.5.{3 + n}", "ann@example.com")
        assert (right.status_code, right.json(), right["WWW-Authenticate"]) == (
            wrong.status_code,
            wrong.json(),
            wrong["WWW-Authenticate"],
        )
    assert len(bcrypt_checks) == 4  # bcrypt every time, the right password included: same time
    failures = AuditEntry.objects.filter(
        action_type="api_auth_failed", target_label="ann@example.com"
    )
    assert failures.count() == 4  # each counted as a failure …
    assert paused(api(client, "10.0.5.9", "ann@example.com"))  # … against the account's budget


# --- names that match no user ----------------------------------------------------------------


def test_an_unknown_sign_in_name_is_kept_masked(client, admin_ann, settings):
    settings.AXES_FAILURE_LIMIT = 2
    typed = "My-Secret-Passw0rd!"  # a password typed into the name box
    page("10.0.6.1", typed, "x")
    api(client, "10.0.6.1", typed, "x")
    assert paused(page("10.0.6.1", typed, "x"))  # still counted, under the mask
    entries = AuditEntry.objects.exclude(action_type__in=["user_add", "user_credentials_change"])
    assert {e.action_type for e in entries} == {
        "user_login_failed",
        "api_auth_failed",
        "user_locked_out",
    }
    for entry in entries:
        stored = (
            f"{entry.actor_label} {entry.target_label} {entry.message} "
            f"{entry.additional_information}"
        )
        assert typed not in stored and typed.lower() not in stored
    labels = {entry.actor_label for entry in entries}
    assert len(labels) == 1 and MASK.fullmatch(
        labels.pop()
    )  # one mask: repeated tries stay visible
    stored_attempts = "".join(
        f"{a.username}{a.post_data}{a.get_data}" for a in AccessAttempt.objects.all()
    )
    assert typed not in stored_attempts


def test_known_names_are_audited_as_the_account(client, admin_ann):
    page("10.0.7.1", "ANN@example.com", "x")
    api(client, "10.0.7.1", "Ann@Example.com", "x")
    entries = AuditEntry.objects.filter(action_type__in=["user_login_failed", "api_auth_failed"])
    assert len(entries) == 2
    for entry in entries:
        assert (entry.actor_label, entry.target_label) == ("ann@example.com", "ann@example.com")


def test_strangers_pausing_an_account_do_not_stop_its_signed_in_owner_confirming(
    admin_ann, settings
):
    """The account budget pauses sign-in from everywhere, but a session that is already signed
    in may still confirm it is them (re-authentication), or a few strangers could keep every
    admin from every recent-checked action, lifting the pause included."""
    device = TOTPDevice.objects.create(user=admin_ann, name="phone", confirmed=True)
    browser = Client(REMOTE_ADDR="10.0.2.1")
    assert (
        browser.post("/login/", {"login": "ann@example.com", "password": PASSWORD}).url
        == "/login/verify/"
    )
    assert browser.post("/login/verify/", {"action": "code", "code": totp_code(device)}).url == "/"
    settings.AUTH_ACCOUNT_FAILURE_LIMIT = 2
    page("10.0.2.2", "ann@example.com", "guess 1")
    page("10.0.2.3", "ann@example.com", "guess 2")
    assert paused(page("10.0.2.4", "ann@example.com"))  # signing in is paused …
    response = browser.post(
        "/account/reauth/", {"action": "code", "code": totp_code(device, steps_ahead=1)}
    )
    assert (response.status_code, response.url) == (
        302,
        "/account/security/",
    )  # … confirming is not
