"""The audit log page with its downloads, and the org settings page."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice
from helpers import PASSWORD, request_overhead, signed_in

from flocks import services as flock_services
from flocks.models import Flock
from users import services
from users.models import AuditEntry, OrgSetting

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(admin, make_user, system):
    """Three users added, one disabled, one flock created and joined; one old entry."""
    ann = make_user("ann@example.com")
    make_user("bob@example.com")
    services.set_active(system, ann, False)
    flock = flock_services.create_flock(system, "Cape Town")
    flock_services.assign_user(system, ann, [flock], "watcher")
    old = AuditEntry.objects.create(
        action_type="user_add", message="Ancient history", target_label="old@example.com"
    )
    AuditEntry.objects.filter(pk=old.pk).update(timestamp=datetime(2020, 1, 2, 12, tzinfo=UTC))
    return flock


def messages_of(response) -> list[str]:
    return [entry.message for entry in response.context["page"].items]


def test_audit_log_newest_first(admin, history):
    response = signed_in(admin).get(reverse("audit_log"))
    assert response.status_code == 200
    ids = [entry.id for entry in response.context["page"].items]
    assert ids == sorted(ids, reverse=True) and len(ids) == 6
    assert "Assigned ann@example.com to flock Cape Town as watcher" in response.content.decode()
    assert response.context["form"].fields["action_type"].choices == [
        ("", "Any action"),
        ("user_assign_to_flock", "Added to flock"),
        ("flock_create", "Flock created"),
        ("user_add", "User added"),
        ("user_disable", "User disabled"),
    ]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"action_type": "user_disable"}, ["Disabled user ann@example.com"]),
        (
            {"user": "ANN@example.com", "action_type": "user_add"},
            ["Added user ann@example.com with access level user"],
        ),
        ({"q": "ancient"}, ["Ancient history"]),
        ({"start": "2020-01-01", "end": "2020-01-02"}, ["Ancient history"]),
        ({"end": "2020-01-01"}, []),
    ],
)
def test_audit_log_filters(admin, history, params, expected):
    assert messages_of(signed_in(admin).get(reverse("audit_log"), params)) == expected


def test_audit_log_filters_by_flock(admin, history):
    response = signed_in(admin).get(reverse("audit_log"), {"flock": history.flock_id})
    assert messages_of(response) == [
        "Assigned ann@example.com to flock Cape Town as watcher",
        "Created flock Cape Town",
    ]


def test_audit_log_bad_filters_are_400(admin, history):
    client = signed_in(admin)
    response = client.get(reverse("audit_log"), {"start": "yesterday", "flock": "flock:nope"})
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"start", "flock"}
    response = client.get(reverse("audit_log"), {"cursor": "garbage"})
    assert response.status_code == 400 and "Invalid cursor" in response.content.decode()


def test_audit_log_paginates_with_cursors(admin, system, django_assert_num_queries):
    for n in range(55):
        services.set_note(system, admin, f"note {n}")
    client = signed_in(admin)
    # action types, count, page (nothing precedes a first page, so no count of that); no flocks
    with django_assert_num_queries(request_overhead(client) + 3):
        first = client.get(reverse("audit_log"), {"action_type": "user_note_add"})
    page = first.context["page"]
    assert (page.page_number, page.page_count, page.total, page.prev) == (1, 2, 55, None)
    second = client.get(reverse("audit_log"), {"action_type": "user_note_add", "cursor": page.next})
    assert messages_of(second) == ["Set the note of admin@example.com"] * 5
    assert second.context["page"].prev and second.context["page"].next is None


def test_csv_download_of_the_filtered_view(admin, history):
    response = signed_in(admin).get(
        reverse("audit_download", args=["csv"]), {"user": "ann@example.com"}
    )
    assert response.status_code == 200 and response["Content-Type"] == "text/csv"
    today = datetime.now(UTC).date().isoformat()
    assert response["Content-Disposition"] == f'attachment; filename="audit-log-until-{today}.csv"'
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [row["action_type"] for row in rows] == [
        "user_assign_to_flock",
        "user_disable",
        "user_add",
    ]
    assert rows[0]["flock_id"] == history.flock_id and rows[0]["user"] == "tests"


def test_json_download_of_the_filtered_view(admin, history):
    response = signed_in(admin).get(
        reverse("audit_download", args=["json"]), {"action_type": "flock_create"}
    )
    assert response["Content-Type"] == "application/json"
    [entry] = json.loads(b"".join(response.streaming_content))
    assert entry["message"] == "Created flock Cape Town" and entry["flock_id"] == history.flock_id
    bad = signed_in(admin).get(reverse("audit_download", args=["json"]), {"start": "soon"})
    assert bad.status_code == 400


def test_audit_pages_are_for_admins_only(client, make_user):
    user = make_user("ann@example.com")
    for url in (
        reverse("audit_log"),
        reverse("audit_download", args=["csv"]),
        reverse("audit_download", args=["json"]),
    ):
        assert signed_in(user).get(url).status_code == 403
        assert client.get(url).status_code == 302


def test_org_settings_count_and_switch(admin, make_user, system):
    ann, bob = make_user("ann@example.com"), make_user("bob@example.com")
    services.set_active(system, make_user("gone@example.com"), False)
    TOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    TOTPDevice.objects.create(user=bob, name="unconfirmed", confirmed=False)
    client = signed_in(admin)
    response = client.get(reverse("org_settings"))
    assert response.context["without_factor"] == 2  # admin and bob
    assert "<strong>2</strong> active users</a> have no second factor" in response.content.decode()
    # Turning it on asks first, and nothing changes until confirmed.
    asked = client.post(reverse("org_settings"), {"globally_enforce_2fa": "on"})
    assert asked.status_code == 200 and "Turn on enforced 2FA?" in asked.content.decode()
    assert not OrgSetting.load().globally_enforce_2fa
    confirmed = {"globally_enforce_2fa": "on", "grace_period_hours": "0", "confirmed": "on"}
    assert client.post(reverse("org_settings"), confirmed).url == reverse("org_settings")
    assert OrgSetting.load().globally_enforce_2fa
    assert AuditEntry.objects.filter(action_type="globally_enforce_2fa_enable").count() == 1
    # Enforcement now holds the admin too: without a factor they would be sent to enrol.
    assert client.get(reverse("org_settings")).url == reverse("security")
    TOTPDevice.objects.create(user=admin, name="app", confirmed=True)
    # Switching it off is what an intruder would do first: it asks for a recent check.
    response = client.post(reverse("org_settings"), {})
    assert response.url == f"{reverse('reauth')}?next={reverse('org_settings')}"
    assert OrgSetting.load().globally_enforce_2fa
    client.post(
        reverse("reauth"),
        {"action": "password", "password": PASSWORD, "next": reverse("org_settings")},
    )
    client.post(reverse("org_settings"), {})
    assert not OrgSetting.load().globally_enforce_2fa
    assert AuditEntry.objects.filter(action_type="globally_enforce_2fa_disable").count() == 1


def test_org_settings_refuse_users(make_user):
    user = make_user("ann@example.com")
    assert (
        signed_in(user).post(reverse("org_settings"), {"globally_enforce_2fa": "on"}).status_code
        == 403
    )
    assert not OrgSetting.load().globally_enforce_2fa
    assert not Flock.objects.exclude(pk="flock:default").exists()


def test_csv_cells_never_start_a_formula(admin, system):
    flock_services.create_flock(system, '=HYPERLINK("http://evil")')
    AuditEntry.objects.create(
        action_type="user_add", message="-2+3", target_label="=cmd@example.com"
    )
    response = signed_in(admin).get(reverse("audit_download", args=["csv"]))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert (rows[0]["message"], rows[0]["target"]) == ("'-2+3", "'=cmd@example.com")
    assert rows[1]["message"] == 'Created flock =HYPERLINK("http://evil")'
