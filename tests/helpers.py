"""Helpers shared by the tests: the common password, API clients as the real SDKs send
(v1 query-string tokens, v2 Basic/Bearer JSON), a signed-in page client per role, what a denial
looks like, real TOTP codes and a real software authenticator, and the database snapshot that
proves a refused call changed nothing."""

from __future__ import annotations

import base64
import json
import re
import time
from base64 import urlsafe_b64encode
from struct import pack
from urllib.parse import urlencode, urlparse

import bcrypt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import connection
from django.shortcuts import resolve_url
from django.test import Client, TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from fido2 import cbor
from fido2.utils import sha256
from soft_webauthn import SoftWebauthnDevice
from webauthn.helpers import base64url_to_bytes

from flocks.models import Flock, FlockMembership
from users.models import AuditEntry, OrgSetting, OutboxMail, User, WebAuthnCredential
from users.twofactor.session import CHECKED_AT
from users.twofactor.totp_device import EncryptedTOTPDevice

PASSWORD = "a long and quiet river"
"""Every test user's password (the admin's too); tests that change it name the new one."""

NEW_PASSWORD = "a fresh long passphrase 42"
"""What a test changes a password to."""

USER_AGENT = "python-requests/2.32.3"


SUCCESS = {"result": "success"}


def ok(response, body=SUCCESS) -> None:
    """The v1 call succeeded with exactly ``body``."""
    assert (response.status_code, response.json()) == (200, body)


NO_FLOCK = "Flock does not exist."


def memberships() -> set[tuple[str, str, str]]:
    """Every flock membership as (e-mail, flock id, role)."""
    return set(FlockMembership.objects.values_list("user__email", "flock_id", "role"))


class V1Client:
    """Sends v1 requests the way canarytools does: auth_token in the query string, form bodies."""

    def __init__(self, client: Client, token: str) -> None:
        self.client, self.token = client, token
        self.headers = {"User-Agent": USER_AGENT}

    def get(self, path: str, **params):
        return self.client.get(
            f"/api/v1/{path}", {"auth_token": self.token, **params}, headers=self.headers
        )

    def post(self, path: str, **params):
        with TestCase.captureOnCommitCallbacks(
            execute=True
        ):  # on-commit work runs as after a real commit
            return self.client.post(
                f"/api/v1/{path}?auth_token={self.token}", params, headers=self.headers
            )

    def delete(self, path: str, **params):
        return self.client.delete(
            f"/api/v1/{path}?auth_token={self.token}",
            urlencode(params),
            content_type="application/x-www-form-urlencoded",
            headers=self.headers,
        )

    def send(self, method: str, path: str, **params):
        return getattr(self, method.lower())(path, **params)


USER_FIELDS = [f.attname for f in User._meta.concrete_fields if f.name != "api_token_last_used"]


def db_state() -> dict:
    """Everything an API call may change, to prove a refused call changed nothing.

    Failed-authentication audit entries are left out: recording them is the point.
    """
    return {
        "users": list(User.objects.order_by("pk").values(*USER_FIELDS)),
        "flocks": list(Flock.objects.order_by("pk").values()),
        "memberships": list(FlockMembership.objects.order_by("pk").values()),
        "org": list(OrgSetting.objects.values()),
        "totp": list(TOTPDevice.objects.values_list("pk", flat=True)),
        "static": list(StaticDevice.objects.values_list("pk", flat=True)),
        "webauthn": list(WebAuthnCredential.objects.values_list("pk", flat=True)),
        "audit": list(
            AuditEntry.objects.exclude(action_type__startswith="api_auth_").values_list(
                "pk", flat=True
            )
        ),
        "mails": list(OutboxMail.objects.values_list("pk", flat=True)),
    }


def page_text(html: str) -> str:
    """A page's (or fragment's) words without its tags, spaces collapsed: sentences that hold
    a ``<time>`` (``users/templatetags/when.py``) read as they show; block elements (cells,
    terms, paragraphs) are apart."""
    blocks = r"</?(?:p|div|li|ul|dl|dt|dd|tr|td|th|table|thead|tbody|h\d|br|section)\b[^>]*>"
    return " ".join(re.sub(r"<[^>]+>", "", re.sub(blocks, " ", html)).split())


def signed_in(user, *, checked_now: bool = False) -> Client:
    """A client signed in as ``user``; ``checked_now`` as if they had just typed their password
    (sensitive changes such as a new API token ask for that)."""
    client = Client()
    client.force_login(user)
    if checked_now:
        session = client.session
        session[CHECKED_AT] = time.time()
        session.save()
    return client


def assert_sent_to_login(response, path: str) -> None:
    assert response.status_code == 302
    assert (
        response.url == f"{resolve_url(settings.LOGIN_URL)}?{urlencode({'next': path}, safe='/')}"
    )


def request_overhead(client: Client) -> int:
    """Queries any signed-in request costs (session, user, middleware), measured on a POST-only
    action asked with GET, which answers 405 before any query of its own; page tests add their
    own fixed count to it."""
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("user_active", args=[0])).status_code == 405
    return len(queries)


NO_BODY = object()

# The two sizes every browser test of a page looks at: a desktop and a 390x844 phone.
SIZES = {"desktop": (1280, 860), "phone": (390, 844)}


TOKEN = "v7s3agw1NXfkkUXz9WHMO_U1QS9xXs9ZEHoKETiNWQY"
REALM = 'Basic realm="portal"'


INVALID = {"message": "Invalid credentials."}


def basic(name: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{name}:{password}".encode()).decode()


def bearer(token: str) -> str:
    return f"Bearer {token}"


def call(
    client: Client,
    method: str,
    path: str,
    body=NO_BODY,
    *,
    auth: str | None,
    remote_addr: str = "127.0.0.1",
    **headers,
):
    """``body``: a dict/list (sent as JSON), bytes (sent as they are) or NO_BODY."""
    if body is NO_BODY:
        data = b""
    elif isinstance(body, bytes):
        data = body
    else:
        data = json.dumps(body).encode()
    all_headers = {"cache-control": "no-cache", **headers}
    if auth is not None:
        all_headers["authorization"] = auth
    content_type = all_headers.pop("content_type", "application/json")
    # The test client leaves Content-Type out when there is no body; the SDK always sends it.
    return read_whole(
        client.generic(
            method,
            f"/api/v2/{path}",
            data,
            content_type=content_type,
            headers=all_headers,
            REMOTE_ADDR=remote_addr,
            CONTENT_TYPE=content_type,
        )
    )


def read_whole(response):
    """A streamed reply read to its end, as a client does (which also closes it, ending its
    database transaction); its bytes in ``streamed_body`` and ``json()`` as for any reply."""
    if response.streaming:
        response.streamed_body = b"".join(response.streaming_content)
        response.json = lambda: json.loads(response.streamed_body)
    return response


ORIGIN = "http://localhost:8123"


def app_secret(device: TOTPDevice) -> bytes:
    """The secret the user's app holds, decrypted the way the portal does (the stored key is
    sealed)."""
    return EncryptedTOTPDevice.objects.get(pk=device.pk).bin_key


def totp_code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the user's app would show now (or ``steps_ahead`` steps later)."""
    totp = TOTP(app_secret(device), device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def fresh_totp_code(device: TOTPDevice) -> str:
    """A code django-otp has not seen yet: the next step when this one was already used."""
    device.refresh_from_db()
    totp = TOTP(app_secret(device), device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    ahead = 1 if totp.t() <= device.last_t else 0
    return totp_code(device, ahead)


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).decode().rstrip("=")


def _public_key_options(options_json: bytes | str) -> dict:
    """Server options (JSON, base64url) as soft-webauthn wants them (bytes)."""
    options = json.loads(options_json)
    options["challenge"] = base64url_to_bytes(options["challenge"])
    if "user" in options:
        options["user"]["id"] = base64url_to_bytes(options["user"]["id"])
    return {"publicKey": options}


class PasskeyDevice(SoftWebauthnDevice):
    """soft-webauthn's authenticator as a passkey's: it verifies its user (the UV flag, as after
    a PIN or a fingerprint, unless ``user_verified`` is False), keeps a discoverable credential
    (``discoverable``) and says so when the site asks (the browser's ``credProps`` result, left
    out with ``reports_discoverable=False`` as a browser without the extension does), and
    answers requests that name no credential with its stored user handle."""

    UP, UV = 0x01, 0x04

    def __init__(
        self,
        *,
        user_verified: bool = True,
        discoverable: bool = True,
        reports_discoverable: bool = True,
    ) -> None:
        super().__init__()
        self.user_verified = user_verified
        self.discoverable = discoverable
        self.reports_discoverable = reports_discoverable

    def _flags(self) -> int:
        return self.UP | (self.UV if self.user_verified else 0)

    def create(self, options: dict, origin: str) -> dict:
        result = super().create(options, origin)
        attestation_object = cbor.decode(result["response"]["attestationObject"])
        auth_data = bytearray(attestation_object["authData"])
        auth_data[32] |= self._flags()  # soft-webauthn sets user presence only
        attestation_object["authData"] = bytes(auth_data)
        result["response"]["attestationObject"] = cbor.encode(attestation_object)
        if options["publicKey"].get("extensions", {}).get("credProps") and (
            self.reports_discoverable
        ):
            result["clientExtensionResults"] = {"credProps": {"rk": self.discoverable}}
        return result

    def get(self, options: dict, origin: str) -> dict:
        """soft-webauthn's assertion, signed over this device's flags."""
        if self.rp_id != options["publicKey"]["rpId"]:
            raise ValueError("Requested rpID does not match current credential")
        self.sign_count += 1
        client_data = json.dumps(
            {
                "type": "webauthn.get",
                "challenge": b64url(options["publicKey"]["challenge"]),
                "origin": origin,
            }
        ).encode()
        authenticator_data = (
            sha256(self.rp_id.encode()) + bytes([self._flags()]) + pack(">I", self.sign_count)
        )
        signature = self.private_key.sign(
            authenticator_data + sha256(client_data), ec.ECDSA(hashes.SHA256())
        )
        return {
            "rawId": self.credential_id,
            "response": {
                "authenticatorData": authenticator_data,
                "clientDataJSON": client_data,
                "signature": signature,
                "userHandle": self.user_handle,
            },
        }


def attestation(
    device: SoftWebauthnDevice, options_json: bytes | str, origin: str = ORIGIN
) -> dict:
    """A real registration response, JSON-ready, the way a browser would post it."""
    result = device.create(_public_key_options(options_json), origin)
    return {
        "id": b64url(result["rawId"]),
        "rawId": b64url(result["rawId"]),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url(result["response"]["clientDataJSON"]),
            "attestationObject": b64url(result["response"]["attestationObject"]),
            "transports": ["usb"],
        },
        "clientExtensionResults": result.get("clientExtensionResults", {}),
    }


def assertion(device: SoftWebauthnDevice, options_json: bytes | str, origin: str = ORIGIN) -> dict:
    """A real authentication response, JSON-ready."""
    result = device.get(_public_key_options(options_json), origin)
    response = result["response"]
    return {
        "id": b64url(result["rawId"]),
        "rawId": b64url(result["rawId"]),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url(response["clientDataJSON"]),
            "authenticatorData": b64url(response["authenticatorData"]),
            "signature": b64url(response["signature"]),
            "userHandle": b64url(response["userHandle"]),
        },
    }


def post_json(client: Client, url: str, body: dict | None = None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def add_key(user, device: SoftWebauthnDevice, *, passkey: bool = True, name: str = "Laptop", **kw):
    """Register ``device`` on ``user``'s Security page ("Add a passkey", or with ``passkey``
    False "Add security key"); ``kw`` goes to ``attestation`` (e.g. ``origin``)."""
    user.refresh_from_db()  # an earlier key ended the sessions of the user as it was
    client = signed_in(user, checked_now=True)
    base = "/account/security/passkeys/" if passkey else "/account/security/keys/"
    options = client.post(base + "options/", content_type="application/json")
    assert options.status_code == 200, options.content
    credential = attestation(device, options.content, **kw)
    return post_json(client, base, {"name": name, "credential": credential})


def checks(plain: str, hashed: str | None) -> bool:
    return hashed is not None and bcrypt.checkpw(plain.encode(), hashed.encode())


def snapshot() -> list[tuple]:
    """Everything a refused call must leave as it was."""
    users = list(
        User.objects.order_by("pk").values_list(
            "username", "password", "api_token_hash", "is_active"
        )
    )
    return [*users, AuditEntry.objects.count()]


def link_path(message) -> str:
    """The path of the set-password link in a mailed ``message``."""
    link = re.search(r"https?://\S+/accounts/reset/\S+/", message.body).group(0)
    return urlparse(link).path


def set_password_through(client, path: str, password: str) -> None:
    """Follow a mailed link as a browser does: the page redirects to its form, which sets the
    password."""
    response = client.get(path, follow=True)
    assert response.status_code == 200 and response.context["validlink"]
    form_path = response.redirect_chain[-1][0]
    response = client.post(
        form_path, {"new_password1": password, "new_password2": password}, follow=True
    )
    assert response.redirect_chain == [("/accounts/reset/done/", 302)]
    login = reverse("login").encode()
    assert (
        b'Your password has been set. You can now <a href="' + login + b'">sign in</a>.'
        in response.content
    )


def list_users(client: Client, auth: str, remote_addr: str = "127.0.0.1"):
    """GET /api/v2/users with ``auth``, from ``remote_addr``."""
    return call(client, "GET", "users", auth=auth, remote_addr=remote_addr)


def shown_codes(response) -> list[str]:
    """The recovery codes a page shows (``templates/twofactor/recovery_codes.html``)."""
    return re.findall(r"<code [^>]*data-code>([^<]+)</code>", response.content.decode())


def save_recovery_codes(page) -> None:
    """In a browser on the recovery-codes page: download the codes (the quickest of the three ways
    that enable "I have saved them") and go on to the Security page."""
    with page.expect_download():
        page.click("text=Download .txt")
    page.click("text=I have saved them")
    page.wait_for_url("**/account/security/*")
