"""The audit log as a person reads it: labels instead of codes, names that link, ISO times and
dated file names in the CSV, a hint for a reversed date range, and why a sign-in failed."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse
from helpers import PASSWORD, signed_in

from users import services
from users.audit import Actor
from users.audit_labels import ACTION_LABELS, action_label
from users.models import AuditEntry, User
from users.twofactor.totp_device import EncryptedTOTPDevice

pytestmark = pytest.mark.django_db


def test_rows_show_labels_and_link_actor_and_target(admin, ann):
    services.set_active(Actor(user=admin), ann, False)
    page = signed_in(admin).get(reverse("audit_log")).content.decode()
    row = re.search(r"<tr>\s*<td class=\"nowrap\">.*?</tr>", page, re.S).group(0)
    assert '<div class="action" title="user_disable">User disabled</div>' in row
    assert f'About <a href="/users/{ann.pk}/">ann@example.com</a>' in row
    assert f'<a href="/users/{admin.pk}/">admin@example.com</a>' in row
    assert "<code" not in row


def test_removed_users_are_named_without_a_link(admin, ann):
    actor = Actor(user=admin)
    services.set_note(actor, ann, "leaving")
    services.remove_user(actor, ann)
    page = signed_in(admin).get(reverse("audit_log")).content.decode()
    assert "About <a" not in page.split("User removed")[1].split("</tr>")[0]
    assert "ann@example.com" in page and f"/users/{ann.pk}/" not in page


def test_every_recorded_action_has_a_label_and_unknown_codes_read_as_words():
    assert all(
        label and (label[0].isupper() or label[0].isdigit()) for label in ACTION_LABELS.values()
    )
    assert action_label("user_things_end") == "User things end"
    assert action_label("user_totp_thing") == "User authenticator app thing"


def test_csv_times_are_iso_8601_and_the_file_is_named_for_its_range(admin, make_user):
    make_user("ann@example.com")
    entry = AuditEntry.objects.filter(action_type="user_add").earliest("id")
    AuditEntry.objects.filter(pk=entry.pk).update(
        timestamp=datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    )
    response = signed_in(admin).get(
        reverse("audit_download", args=["csv"]), {"start": "2026-03-01", "end": "2026-03-31"}
    )
    assert response["Content-Disposition"] == (
        'attachment; filename="audit-log-2026-03-01-to-2026-03-31.csv"'
    )
    [row] = csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    assert row["timestamp"] == "2026-03-04T05:06:07Z" and row["action_type"] == "user_add"
    json_reply = signed_in(admin).get(
        reverse("audit_download", args=["json"]), {"start": "2026-03-01"}
    )
    assert json_reply["Content-Disposition"].startswith(
        'attachment; filename="audit-log-2026-03-01-to-'
    )
    assert b"2026-03-04 05:06:07 UTC+0000" in b"".join(json_reply.streaming_content)


def test_from_after_to_is_a_hint_not_an_empty_page(admin):
    client = signed_in(admin)
    response = client.get(reverse("audit_log"), {"start": "2026-05-02", "end": "2026-05-01"})
    assert response.status_code == 400
    assert response.context["form"].errors["end"] == [
        "“To” is before “From”, so nothing can match: swap the two dates."
    ]
    download = client.get(
        reverse("audit_download", args=["csv"]), {"start": "2026-05-02", "end": "2026-05-01"}
    )
    assert download.status_code == 400 and "swap the two dates" in download.content.decode()


@pytest.mark.parametrize(
    ("login", "password", "reason"),
    [
        ("ann", "wrong password", "wrong password"),
        ("nobody-here", PASSWORD, "unknown name"),
        ("disabled@example.com", PASSWORD, "account disabled"),
    ],
)
def test_failed_sign_ins_say_why(ann, system, login, password, reason):
    disabled = User.objects.create_user("disabled", "disabled@example.com", PASSWORD)
    services.set_active(system, disabled, False)
    response = Client().post("/login/", {"login": login, "password": password})
    assert response.status_code == 200
    entry = AuditEntry.objects.get(action_type="user_login_failed")
    assert entry.message.endswith(f": {reason}")
    assert entry.additional_information["reason"] == reason
    assert "nobody-here" not in entry.message  # unknown names stay masked


def test_a_wrong_second_factor_code_says_so(ann):
    EncryptedTOTPDevice.objects.create(user=ann, name="app", confirmed=True)
    client = Client()
    client.post("/login/", {"login": "ann", "password": PASSWORD})
    client.post("/login/verify/", {"action": "code", "code": "000000"})
    entry = AuditEntry.objects.get(action_type="user_login_failed")
    assert entry.message == "Failed sign-in for ann: wrong code"
