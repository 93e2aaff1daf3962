"""Invitations (issue 15, point 2): a user who never set a password shows as invited (when, by
whom, the link's expiry) on the list and the profile with "Resend invitation" (the mail
outbox's "send again", audited); the welcome mail names the inviter, the organisation (an org
setting), the link's expiry and the second-factor rule; the set-password page names the account
and lists the password rules. Mails go through the real outbox and the mail worker."""

from __future__ import annotations

import re
from datetime import UTC, timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from helpers import link_path, page_text, request_overhead, set_password_through, signed_in

from users import services
from users.models import AuditEntry, OrgSetting, OutboxMail, User

pytestmark = pytest.mark.django_db

APOSTROPHE = "\N{RIGHT SINGLE QUOTATION MARK}"  # in the rules Django's validators write


def add(client: Client, email: str, **fields) -> User:
    data = {"email": email, "access_level": "user", "send_welcome_mail": "on", **fields}
    assert client.post(reverse("user_add"), data).status_code == 302
    return User.objects.get(email=email)


def status_cell(client: Client, user: User) -> str:
    page = client.get(reverse("user_list"), {"q": user.email}).content.decode()
    row = re.search(rf'<tr>\s*<td><a href="/users/{user.pk}/".*?</tr>', page, re.S).group(0)
    return page_text(re.findall(r"<td>.*?</td>", row, re.S)[2])


def invitation_text(client: Client, user: User) -> str:
    page = client.get(reverse("user_detail", args=[user.pk])).content.decode()
    found = re.search(r"<p data-invitation>(.*?)</p>", page, re.S)
    return page_text(found.group(1)) if found else ""


def test_an_added_user_is_invited_until_they_choose_a_password(rechecked_admin, sent_mail):
    carol = add(rechecked_admin, "carol@example.com")
    assert status_cell(rechecked_admin, carol) == "invited mail queued"
    assert invitation_text(rechecked_admin, carol) == (
        "Invited just now by admin@example.com. The welcome mail is queued; its link works for "
        "3 days from when it is sent."
    )
    (welcome,) = sent_mail()
    assert status_cell(rechecked_admin, carol) == "invited link expires in 2 days"
    assert invitation_text(rechecked_admin, carol) == (
        "Invited just now by admin@example.com. The link expires in 2 days."
    )
    profile = rechecked_admin.get(reverse("user_detail", args=[carol.pk])).content.decode()
    assert "<dt>Status</dt><dd>Invited: has not chosen a password yet</dd>" in profile
    assert '<span class="badge warn">invited</span>' in profile
    set_password_through(Client(), link_path(welcome), "a long new passphrase 42")
    assert status_cell(rechecked_admin, carol) == "active"
    profile = rechecked_admin.get(reverse("user_detail", args=[carol.pk])).content.decode()
    assert "data-invitation" not in profile and "<dt>Status</dt><dd>Active</dd>" in profile


def test_an_expired_link_shows_and_resending_mails_a_fresh_one(rechecked_admin, sent_mail):
    carol = add(rechecked_admin, "carol@example.com")
    sent_mail()
    OutboxMail.objects.update(
        created=timezone.now() - timedelta(days=4), sent_at=timezone.now() - timedelta(days=4)
    )
    assert status_cell(rechecked_admin, carol) == "invited link expired"
    assert invitation_text(rechecked_admin, carol) == (
        "Invited 4 days ago by admin@example.com. The link expired 1 day ago."
    )
    profile = rechecked_admin.get(reverse("user_detail", args=[carol.pk])).content.decode()
    first = OutboxMail.objects.get()
    assert (
        f'<input type="hidden" name="mail" value="{first.pk}"><button type="submit">'
        "Resend invitation</button>"
    ) in profile
    response = rechecked_admin.post(
        reverse("user_mail_send_again", args=[carol.pk]), {"mail": first.pk}, follow=True
    )
    assert "Queued the welcome mail to carol@example.com again." in response.content.decode()
    resent = AuditEntry.objects.get(action_type="user_mail_resend")
    assert resent.target_id == carol.pk and resent.actor_label == "admin@example.com"
    assert resent.message == "Queued the welcome mail for carol@example.com again"
    mails = sent_mail()
    assert len(mails) == 2 and mails[1].to == ["carol@example.com"]
    assert "admin@example.com invited you to the portal" in mails[1].body
    assert status_cell(rechecked_admin, carol) == "invited link expires in 2 days"
    set_password_through(Client(), link_path(mails[1]), "a long new passphrase 42")


def test_a_user_added_without_a_welcome_mail_says_so(rechecked_admin):
    carol = add(rechecked_admin, "carol@example.com", send_welcome_mail="")
    assert status_cell(rechecked_admin, carol) == "invited no welcome mail"
    assert invitation_text(rechecked_admin, carol) == (
        "Added without a welcome mail: they have no way to choose a password yet."
    )


def test_users_with_a_password_or_a_sign_in_are_not_invited(rechecked_admin, admin, ann):
    assert status_cell(rechecked_admin, ann) == "active"  # a password, never signed in
    passkey_only = User.objects.create_user("pk", "pk@example.com")  # no password …
    User.objects.filter(pk=passkey_only.pk).update(last_login=timezone.now())  # … signed in
    assert status_cell(rechecked_admin, passkey_only) == "active"


def test_the_list_costs_one_query_more_when_it_shows_invited_users(
    rechecked_admin, make_user, django_assert_num_queries, system
):
    overhead = request_overhead(rechecked_admin)
    with django_assert_num_queries(overhead + 4):  # count, ids, details, memberships
        rechecked_admin.get(reverse("user_list"))
    for n in range(60):
        user = make_user(f"u{n:02}@example.com")
        OutboxMail.objects.create(kind="welcome", user=user, message_id=f"<{n}@t>")
    with django_assert_num_queries(overhead + 5):  # and their welcome mails
        first = rechecked_admin.get(reverse("user_list"))
    with django_assert_num_queries(overhead + 5):
        rechecked_admin.get(reverse("user_list"), {"page": 2})
    assert first.content.decode().count("mail queued") == 49  # the admin is not invited


# The welcome mail.


def test_the_welcome_mail_names_inviter_organisation_expiry_and_the_2fa_rule(
    rechecked_admin, system, sent_mail
):
    services.set_org_name(system, "Acme SOC")
    add(rechecked_admin, "carol@example.com", require_2fa="on")
    before = timezone.now()
    (welcome,) = sent_mail()
    expires = (before + timedelta(days=3)).astimezone(UTC)
    assert welcome.subject == "Welcome to Acme SOC"
    link = re.search(r"https?://\S+/accounts/reset/\S+/", welcome.body).group(0)
    body = welcome.body.replace(link, "<link>")
    body = re.sub(r"until \d{4}-\d\d-\d\d \d\d:\d\d UTC", "until <expiry>", body)
    assert body == (
        "Hello carol@example.com,\n\n"
        "admin@example.com invited you to Acme SOC (http://localhost:8000).\n\n"
        "Choose your password with this one-time link:\n\n"
        "<link>\n\n"
        "The link works once, until <expiry>. If it has expired, ask admin@example.com to "
        "send you a new invitation.\n\n"
        "Your user name is carol@example.com.\n\n"
        "A second factor (an authenticator app or a security key) is required: at your first "
        "sign-in you will set one up before anything else.\n"
    )
    found = re.search(r"until (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", welcome.body).group(1)
    assert found in (
        f"{expires:%Y-%m-%d %H:%M}",
        f"{expires + timedelta(minutes=1):%Y-%m-%d %H:%M}",
    )


def test_the_welcome_mail_gives_the_org_wide_deadline_or_says_2fa_is_optional(
    rechecked_admin, sent_mail, system
):
    add(rechecked_admin, "optional@example.com")
    (optional,) = sent_mail()
    assert optional.subject == "Welcome to the portal"
    assert "admin@example.com invited you to the portal (" in optional.body
    assert optional.body.endswith(
        "A second factor (an authenticator app or a security key) is not required, but you can "
        "add one on your Security page after signing in.\n"
    )
    services.set_global_2fa(system, True, 48)
    dave = add(rechecked_admin, "dave@example.com")
    deadline = (dave.date_joined + timedelta(hours=48)).astimezone(UTC)
    dave_mail = sent_mail()[-1]
    assert dave_mail.body.endswith(
        "A second factor (an authenticator app or a security key) will be required from "
        f"{deadline:%Y-%m-%d %H:%M} UTC; you can set one up at your first sign-in.\n"
    )


# The organisation's name, on the org settings page.


def test_the_org_name_is_edited_on_the_org_page_and_audited(rechecked_admin):
    page = rechecked_admin.get(reverse("org_settings")).content.decode()
    assert "Welcome mails and the set-password page say <strong data-org-name>the portal" in page
    response = rechecked_admin.post(reverse("org_name"), {"org_name": "  Acme   SOC "}, follow=True)
    assert "The organisation is called Acme SOC." in response.content.decode()
    assert OrgSetting.load().org_name == "Acme SOC"
    entry = AuditEntry.objects.get(action_type="org_name_change")
    assert entry.message == "Renamed the organisation from the portal to Acme SOC"
    assert entry.actor_label == "admin@example.com"
    # the Django admin shows it, read-only (its edits go through this page's service)
    admin_page = rechecked_admin.get(reverse("admin:users_orgsetting_change", args=[1]))
    assert '<div class="readonly">Acme SOC</div>' in admin_page.content.decode()
    # the same name again changes and audits nothing
    rechecked_admin.post(reverse("org_name"), {"org_name": "Acme SOC"})
    assert AuditEntry.objects.filter(action_type="org_name_change").count() == 1


@pytest.mark.parametrize(
    ("name", "error"),
    [("   ", "This field is required."), ("x" * 101, "Ensure this value has at most 100")],
)
def test_a_bad_org_name_is_refused_and_changes_nothing(rechecked_admin, name, error):
    response = rechecked_admin.post(reverse("org_name"), {"org_name": name})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert OrgSetting.load().org_name == "the portal"
    assert not AuditEntry.objects.filter(action_type="org_name_change").exists()


def test_only_admins_rename_the_organisation(ann):
    response = signed_in(ann, checked_now=True).post(reverse("org_name"), {"org_name": "Mine"})
    assert response.status_code == 403
    assert OrgSetting.load().org_name == "the portal"


# The set-password page.


def test_the_set_password_page_names_the_account_and_lists_the_rules(
    rechecked_admin, system, sent_mail
):
    services.set_org_name(system, "Acme SOC")
    add(rechecked_admin, "carol@example.com")
    (welcome,) = sent_mail()
    client = Client()
    page = client.get(link_path(welcome), follow=True)
    html = page.content.decode()
    assert "For carol@example.com on Acme SOC." in page_text(html)
    assert (
        '<input type="text" name="username" value="carol@example.com" autocomplete="username" '
        "readonly hidden>"
    ) in html
    rules = re.search(r'<div class="helptext"><ul>(.*?)</ul></div>', html, re.S).group(1)
    assert page_text(rules).replace(APOSTROPHE, "'") == (
        "Your password can't be too similar to your other personal information. "
        "Your password must contain at least 8 characters. "
        "Your password can't be a commonly used password. "
        "Your password can't be entirely numeric. "
        "Your password can be at most 72 bytes long."
    )
    assert html.index("Your password must contain") < html.index("New password again")
    form_path = page.redirect_chain[-1][0]
    refused = client.post(form_path, {"new_password1": "password", "new_password2": "password"})
    html = refused.content.decode()
    first = re.search(r'<div class="field has-error">\s*<label for="id_new_password1">', html)
    assert first, html
    assert html.index("This password is too common.") < html.index("New password again")
    assert '<label for="id_new_password2">New password again</label>' in html
