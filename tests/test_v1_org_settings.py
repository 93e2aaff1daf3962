"""v1 ``settings/usermanagement/globally_enforce_2fa/enable`` with the optional
``grace_period_hours`` (issue 14.1): the reply stays exactly ``{"result": "success"}`` unless the
period is sent; then it adds ``grace_period_ends``. Bad periods are a 400 that changes nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import ok

from users.models import AuditEntry, OrgSetting

pytestmark = pytest.mark.django_db

ENABLE = "settings/usermanagement/globally_enforce_2fa/enable"
DISABLE = "settings/usermanagement/globally_enforce_2fa/disable"
BAD_PERIOD = "Invalid grace_period_hours: a whole number of hours from 0 to 8760"


@pytest.fixture(autouse=True)
def _admin_has_a_factor(admin):
    """Once enforced, the admin's token works only with a factor (or inside the period)."""
    TOTPDevice.objects.create(user=admin, name="app", confirmed=True)


def test_enable_without_a_period_replies_exactly_as_before(v1):
    ok(v1.post(ENABLE))
    org = OrgSetting.load()
    assert (org.globally_enforce_2fa, org.grace_period_hours) == (True, 0)
    entry = AuditEntry.objects.get(action_type="globally_enforce_2fa_enable")
    assert entry.message == "Enabled globally enforced 2FA with no grace period"


def test_enable_with_a_period_says_when_it_ends(v1):
    response = v1.post(ENABLE, grace_period_hours="48")
    org = OrgSetting.load()
    ends = (org.enforced_since + timedelta(hours=48)).replace(microsecond=0)
    assert (response.status_code, response.json()) == (
        200,
        {"result": "success", "grace_period_ends": ends.isoformat()},
    )
    assert response.json()["grace_period_ends"].endswith("+00:00")
    assert datetime.fromisoformat(response.json()["grace_period_ends"]) == ends
    assert org.grace_period_hours == 48


def test_a_second_enable_keeps_the_clock_and_a_shorter_period_ends_earlier(v1):
    first = v1.post(ENABLE, grace_period_hours="48").json()["grace_period_ends"]
    since = OrgSetting.load().enforced_since
    ok(v1.post(ENABLE))  # no period: exactly as before, the period stays 48
    assert OrgSetting.load().grace_period_hours == 48
    second = v1.post(ENABLE, grace_period_hours="24").json()
    assert datetime.fromisoformat(second["grace_period_ends"]) == datetime.fromisoformat(
        first
    ) - timedelta(hours=24)
    assert OrgSetting.load().enforced_since == since
    assert v1.post(ENABLE, grace_period_hours="0").json() == {
        "result": "success",
        "grace_period_ends": since.replace(microsecond=0).isoformat(),
    }
    assert list(AuditEntry.objects.values_list("action_type", flat=True)[:4]) == [
        "globally_enforce_2fa_grace_period",
        "globally_enforce_2fa_grace_period",
        "globally_enforce_2fa_enable",
        "globally_enforce_2fa_enable",
    ]


def test_an_empty_period_counts_as_none_sent(v1):
    ok(v1.post(ENABLE, grace_period_hours=""))


@pytest.mark.parametrize("bad", ["-1", "8761", "1.5", "two", "48h", "1e2", "٤٨", "99999999999"])
def test_a_bad_period_is_a_clear_400_that_changes_nothing(v1, refused, bad):
    refused(lambda: v1.post(ENABLE, grace_period_hours=bad), 400, BAD_PERIOD)


def test_a_bad_period_leaves_enforcement_on_as_it_was(v1, refused):
    v1.post(ENABLE, grace_period_hours="24")
    refused(lambda: v1.post(ENABLE, grace_period_hours="-5"), 400, BAD_PERIOD)
    assert OrgSetting.load().grace_period_hours == 24


def test_disable_replies_exactly_success_and_stops_the_clock(v1):
    v1.post(ENABLE, grace_period_hours="24")
    ok(v1.post(DISABLE))
    org = OrgSetting.load()
    assert (org.globally_enforce_2fa, org.enforced_since, org.grace_period_hours) == (
        False,
        None,
        24,
    )


def test_the_schema_describes_the_period_and_the_optional_reply(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/" + ENABLE]["post"]
    form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["properties"]["grace_period_hours"]["type"] == "integer"
    assert (
        form["properties"]["grace_period_hours"]["minimum"],
        form["properties"]["grace_period_hours"]["maximum"],
    ) == (0, 8760)
    assert "grace_period_hours" not in form.get("required", [])
    reply = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert reply["properties"]["grace_period_ends"]["format"] == "date-time"
    assert reply["required"] == ["result"]
