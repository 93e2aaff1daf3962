"""One vocabulary: the text a person reads says "authenticator app", "security keys" and
"passkeys", never TOTP or WebAuthn (codes, URLs, API fields and code samples keep theirs).

Every page an admin reaches by following links from the dashboard is read — the portal's pages,
confirmation pages, the Security page with an app, a key and a passkey, and the Django admin —
and so are the flash messages of the factor resets and the audit entries they write.
"""

from __future__ import annotations

import re
import time
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.helpers import ORIGIN, PASSWORD, PasskeyDevice, add_key, fresh_totp_code
from users import services
from users.twofactor.session import CHECKED_AT, VERIFIED

# As a word: codes such as user_webauthn_add or totp_keys_reencrypt (shown on hover) may show.
JARGON = re.compile(r"\b(totp|webauthn)\b", re.IGNORECASE)
# What a person reads in an attribute: tooltips, labels for screen readers, placeholders.
READ_ATTRIBUTES = {"title", "alt", "aria-label", "placeholder"}
# Not read as prose: scripts, styles and code samples (API field names, keys, commands).
UNREAD_ELEMENTS = {"script", "style", "code", "template"}
NOT_PAGES = ("/api/", "/static/", "/django-admin/jsi18n/", "/favicon.ico")


class VisibleText(HTMLParser):
    """The text of a page as a person reads it, and the links it offers."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.links: list[str] = []
        self._unread = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in UNREAD_ELEMENTS:
            self._unread += 1
        values = dict(attrs)
        if tag == "a" and values.get("href"):
            self.links.append(values["href"])
        self.parts += [value for name, value in attrs if name in READ_ATTRIBUTES and value]
        if tag == "input" and values.get("type") in ("submit", "button") and values.get("value"):
            self.parts.append(values["value"])

    def handle_endtag(self, tag: str) -> None:
        if tag in UNREAD_ELEMENTS and self._unread:
            self._unread -= 1

    def handle_data(self, data: str) -> None:
        if not self._unread and data.strip():
            self.parts.append(data.strip())


def read(response) -> VisibleText:
    parser = VisibleText()
    parser.feed(response.content.decode())
    return parser


def jargon_in(response) -> list[str]:
    return [part for part in read(response).parts if JARGON.search(part)]


def test_the_parser_reads_text_and_attributes_but_not_code_or_links():
    parser = VisibleText()
    parser.feed(
        '<p>Reset TOTP</p><a href="/reset-totp/" title="WebAuthn keys">x</a>'
        "<code>totp_enabled TOTP</code><script>WebAuthn()</script><input type=submit value=TOTP>"
        "<p>signed in (password and totp)</p><p>user_webauthn_add</p>"
    )
    assert [part for part in parser.parts if JARGON.search(part)] == [
        "Reset TOTP",
        "WebAuthn keys",
        "TOTP",
        "signed in (password and totp)",
    ]
    assert parser.links == ["/reset-totp/"]


@pytest.fixture
def factors(admin, ann, system, settings):
    """The admin and ann each with an authenticator app, a security key and a passkey; the
    audit log with entries about resets written now."""
    settings.WEBAUTHN_ORIGIN, settings.WEBAUTHN_RP_ID = ORIGIN, "localhost"
    bob = services.add_user(
        system, email="bob@example.com", access_level="user", send_welcome_mail=False
    )
    for user in (admin, ann, bob):
        assert add_key(user, PasskeyDevice(), passkey=False, name="Blue key").status_code == 200
        assert add_key(user, PasskeyDevice(), name="Laptop").status_code == 200
        TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    signing_in = Client()  # ann signs in with her app: the audit log says how
    signing_in.post("/login/", {"login": ann.username, "password": PASSWORD})
    device = TOTPDevice.objects.get(user=ann)
    assert (
        signing_in.post(
            "/login/verify/", {"action": "code", "code": fresh_totp_code(device)}
        ).status_code
        == 302
    )
    services.disable_totp(system, bob)
    services.disable_webauthn(system, bob)
    services.set_active(system, bob, False)
    admin.refresh_from_db()
    return admin, ann, bob


def verified(user) -> Client:
    """Signed in past the second factor and just checked (confirmation pages, Django admin)."""
    user.refresh_from_db()
    client = Client()
    client.force_login(user)
    session = client.session
    session[VERIFIED] = "authenticator app"
    session[CHECKED_AT] = time.time()
    session.save()
    return client


def crawl(client: Client, start: str = "/") -> dict[str, list[str]]:
    """Every page reachable by links from ``start`` (one visit per path, queries ignored):
    the jargon each one shows."""
    seen, queue, found = set(), [start], {}
    while queue:
        url = queue.pop()
        path = urlsplit(url).path
        if path in seen or path.startswith(NOT_PAGES):
            continue
        seen.add(path)
        response = client.get(url)
        assert response.status_code in (200, 302), (url, response.status_code)
        if response.status_code == 302 or "text/html" not in response["Content-Type"]:
            continue
        page = read(response)
        found[url] = [part for part in page.parts if JARGON.search(part)]
        for href in page.links:
            target = urlsplit(urljoin(url, href))
            if not target.netloc or target.netloc == "testserver":
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
    return found


def test_no_page_an_admin_reaches_says_totp_or_webauthn(factors):
    admin, ann, _ = factors
    found = crawl(verified(admin))
    must_have = [
        "/",
        reverse("user_list"),
        reverse("user_detail", args=[ann.pk]),
        reverse("user_reset_totp", args=[ann.pk]),
        reverse("user_reset_webauthn", args=[ann.pk]),
        reverse("security"),
        reverse("audit_log"),
        "/django-admin/users/user/",
        f"/django-admin/users/user/{ann.pk}/change/",
    ]
    assert not set(must_have) - {urlsplit(url).path for url in found}
    assert {url: parts for url, parts in found.items() if parts} == {}
    assert len(found) > 30  # the crawl really went through the site


def test_the_users_list_filter_and_badges_name_the_factors(factors):
    response = verified(factors[0]).get(reverse("user_list"))
    text = " ".join(read(response).parts)
    assert "Authenticator app only" in text and "Security keys only" in text
    assert "authenticator app" in text and "security keys" in text
    assert jargon_in(response) == []


def test_resets_say_authenticator_app_and_security_keys(factors):
    admin, ann, _ = factors
    client = verified(admin)
    response = client.post(reverse("user_reset_totp", args=[ann.pk]), follow=True)
    assert "Reset the authenticator app of ann@example.com (1 app removed)." in read(response).parts
    response = client.post(reverse("user_reset_webauthn", args=[ann.pk]), follow=True)
    assert "Reset the security keys of ann@example.com (2 keys removed)." in read(response).parts
    assert jargon_in(response) == []
    audit = client.get(reverse("audit_log"), {"user": "ann@example.com"})
    text = " ".join(read(audit).parts)
    assert "Reset the authenticator app of ann@example.com" in text
    assert "Reset the security keys of ann@example.com" in text
    assert jargon_in(audit) == []


def test_django_admin_factor_actions_are_named_in_words(factors):
    admin, ann, _ = factors
    client = verified(admin)
    changelist = reverse("admin:users_user_changelist")
    page = client.get(changelist)
    text = read(page).parts
    assert "Reset authenticator app (remove it)" in text
    assert "Reset security keys (remove every key and passkey)" in text
    response = client.post(
        changelist, {"action": "reset_webauthn", "_selected_action": [ann.pk]}, follow=True
    )
    assert "Reset the security keys of 1 user(s)." in read(response).parts
    assert jargon_in(response) == []
