"""API credential checks that cost microseconds after the first bcrypt.

A token finds its user through the HMAC index; a user name through its unique
column. bcrypt runs once; the success is then remembered in the shared cache
under a keyed hash of the credential, as a keyed hash of the user and their
stored bcrypt hash (the cache holds neither a secret nor a hash). Every request
still reads the user's row, so a changed password or token, a disabled or
demoted user is refused on the very next request, on every worker. A repeated
credential costs one cache round trip and one indexed query. Failures are
counted per client address and per user name; past the limit the caller gets
429 until the window passes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from portal.client_ip import client_ip
from users.audit import Actor, record
from users.hashers import bcrypt_check, bcrypt_hash, plain_bcrypt
from users.lookup import user_named
from users.models import AuditEntry, User
from users.selectors import users_where
from users.tokens import keyed_digest, token_index

LAST_USED_RESOLUTION = timedelta(minutes=1)
AUDIT_LABEL_MAX = AuditEntry._meta.get_field("actor_label").max_length
USER_AGENT_MAX = 1000
# What a credential check and the requests after it read of the user; the rest of the row
# (dates SQLite would parse, notes …) loads only if something asks for it.
CHECKED_FIELDS = (
    "username",
    "email",
    "password",
    "access_level",
    "is_active",
    "api_token_hash",
    "api_token_last_used",
)
# Checked against when a user name is unknown, so that answer costs as much as a wrong password.
_DUMMY_HASH = SimpleLazyObject(lambda: bcrypt_hash("not a real password"))


class TooManyFailures(Exception):
    """Raised before any check when the address or user name is over the failure limit."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many failed attempts")
        self.retry_after = retry_after


@dataclass(frozen=True)
class Client:
    ip: str
    user_agent: str

    @classmethod
    def from_request(cls, request) -> Client:
        return cls(ip=client_ip(request), user_agent=request.META.get("HTTP_USER_AGENT", ""))


def _failure_keys(client: Client, name: str | None) -> list[str]:
    keys = [f"apifail:ip:{client.ip}"]
    if name:
        keys.append(f"apifail:name:{keyed_digest('api-fail-name', name)}")
    return keys


def _check_throttle(client: Client, name: str | None, credential_key: str) -> str | None:
    """Refuse an address or user name over the limit, auditing that once per key and window
    so a client hammering past the limit cannot flood the audit log; otherwise return what
    the cache remembers under ``credential_key`` (one cache round trip for both)."""
    limit, window = settings.API_AUTH_FAILURE_LIMIT, settings.API_AUTH_FAILURE_WINDOW
    failure_keys = _failure_keys(client, name)
    found = cache.get_many([*failure_keys, credential_key])
    over = [key for key in failure_keys if found.get(key, 0) >= limit]
    if not over:
        return found.get(credential_key)
    first_refusals = [cache.add(f"apithrottled:{key}", 1, window) for key in over]
    if any(first_refusals):
        _audit(client, name, "api_auth_throttled", "API authentication throttled for {}", client.ip)
    raise TooManyFailures(window)


def _note_failure(client: Client, name: str | None, how: str) -> None:
    window = settings.API_AUTH_FAILURE_WINDOW
    for key in _failure_keys(client, name):
        if not cache.add(key, 1, window):
            try:
                cache.incr(key)
            except ValueError:  # expired between add and incr
                cache.add(key, 1, window)
    _audit(client, name, "api_auth_failed", f"Failed API authentication ({how}) for {{}}", "an unknown token")


def _audit(client: Client, name: str | None, action_type: str, message: str, nameless: str) -> None:
    """Audit a refusal. The name is the client's choice: no control characters (PostgreSQL
    refuses NUL) and no longer than the label column, so the entry can always be written."""
    label = _printable(name or "", AUDIT_LABEL_MAX)
    actor = Actor(ip=client.ip or None, user_agent=_printable(client.user_agent, USER_AGENT_MAX), label=label)
    record(actor, action_type, message.format(label or nameless))


def _printable(text: str, limit: int) -> str:
    return "".join(char if char.isprintable() else "\ufffd" for char in text[:limit])


def _credential_key(kind: str, material: str) -> str:
    """Where a verified credential is remembered: a keyed digest, never the secret."""
    return f"apicred:{keyed_digest('api-cred-' + kind, material)}"


def _verified(key: str, remembered: str | None, user: User, stored_hash: str, verify) -> bool:
    """True when the credential matches ``stored_hash``: as remembered, else by bcrypt.

    The remembered value is a keyed digest of the user and the stored hash, so it only
    matches while the user's stored hash is the one it was verified against.
    """
    binding = keyed_digest("api-cred-binding", f"{user.pk}:{stored_hash}")
    if remembered == binding:
        return True
    if verify():
        cache.set(key, binding, settings.API_CREDENTIAL_CACHE_SECONDS)
        return True
    return False


def check_token(token: str, client: Client) -> User | None:
    """The user owning API token ``token``, or None (a failure is counted)."""
    key = _credential_key("token", token)
    remembered = _check_throttle(client, None, key)
    user = next(iter(users_where(("api_token_index",), [token_index(token)], CHECKED_FIELDS)), None) if token else None
    if (
        user is not None
        and user.api_token_hash
        and _verified(key, remembered, user, user.api_token_hash, lambda: bcrypt_check(token, user.api_token_hash))
    ):
        _touch_token(user)
        return user
    _note_failure(client, None, "token")
    return None


def check_password(name: str, password: str, client: Client) -> User | None:
    """The user with user name (or e-mail) ``name`` and this password, or None."""
    key = _credential_key("password", f"{name}\0{password}")
    remembered = _check_throttle(client, name, key)
    user = user_named(name, CHECKED_FIELDS)
    if user is not None and user.has_usable_password():
        stored = plain_bcrypt(user.password)

        def verify() -> bool:
            return bcrypt_check(password, stored) if stored else user.check_password(password)

        if _verified(key, remembered, user, user.password, verify):
            return user
    else:
        bcrypt_check(password, str(_DUMMY_HASH))
    _note_failure(client, name, "password")
    return None


def _touch_token(user: User) -> None:
    """Record token use, at most once a minute so reads stay reads."""
    now = timezone.now()
    if user.api_token_last_used is None or now - user.api_token_last_used > LAST_USED_RESOLUTION:
        User.objects.filter(pk=user.pk).update(api_token_last_used=now)
        user.api_token_last_used = now
