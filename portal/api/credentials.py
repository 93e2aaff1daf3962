"""API credential checks that cost microseconds after the first bcrypt.

A token finds its user through the HMAC index; a user name through its unique
column. bcrypt runs once; the success is then remembered in the shared cache
under a keyed hash of the credential, as a keyed hash of the user and their
stored bcrypt hash (the cache holds neither a secret nor a hash). Every request
still reads the user's row, so a changed password or token, a disabled or
demoted user is refused on the very next request, on every worker. A repeated
credential costs one cache round trip and one indexed query.

HTTP Basic takes the user's token in the password field (as the Nebula SDK sends
it) for everybody, but the password itself only from users whom no second factor
protects: for the others it answers like a wrong password (the password alone must
not get around their factor). Password failures count against the sign-in budgets
the pages use (``users.lockouts``); wrong tokens against the address only. A
disabled user's right password answers exactly like a wrong one, in time too."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from django.utils import timezone
from django.utils.functional import SimpleLazyObject

from portal.client_ip import client_ip
from users import lockouts
from users.audit import Actor, record
from users.hashers import bcrypt_check, bcrypt_hash, plain_bcrypt
from users.lockouts import Account, Budget, Paused
from users.models import AuditEntry, User
from users.selectors import users_where
from users.tokens import keyed_digest, token_index
from users.twofactor.policy import factor_required, has_second_factor, needs_enrolment

from .key_auth import KeyCaller, check_key

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
    "must_enroll_2fa",
    "date_joined",  # a grace period counts from it (users.twofactor.policy)
    "api_token_hash",
    "api_token_index",
    "api_token_last_used",
)
PASSWORD_REFUSED = "password refused: use a token"
ENROL_FIRST = (
    "Two-factor sign-in is required for your account: enrol a second factor on the portal's "
    "Security page before using the API."
)
# Checked against when a user name is unknown, so that answer costs as much as a wrong password.
_DUMMY_HASH = SimpleLazyObject(lambda: bcrypt_hash("not a real password"))


class TooManyFailures(Exception):
    """Raised before any check when the address, the account or the pair is over its budget."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many failed attempts")
        self.retry_after = retry_after


class MustEnrol(Exception):
    """Right credentials of a user required to have a second factor who has none: no API
    credential works for them until they enrol (a token minted earlier included)."""


@dataclass(frozen=True)
class Client:
    ip: str
    user_agent: str
    request: (
        HttpRequest  # the Django request, on which django-axes counts the (account, address) pair
    )

    @classmethod
    def from_request(cls, request) -> Client:
        django_request = getattr(request, "_request", request)  # DRF wraps it
        return cls(
            ip=client_ip(django_request),
            user_agent=django_request.META.get("HTTP_USER_AGENT", ""),
            request=django_request,
        )


def _refuse_if_paused(client: Client, account: Account | None, *also: str) -> dict:
    """Refuse a try over the address or account budget, or for a locked pair, auditing that
    once per budget and window so a client hammering on cannot flood the audit log; else
    return what the cache holds under ``also`` (one round trip with the budgets)."""
    try:
        found = Budget(client.ip, account).check(*also)
    except Paused as exc:
        _audit_pause(client, account, exc.over, exc.retry_after)
        raise TooManyFailures(exc.retry_after) from None
    if account is not None and lockouts.pair_locked(client.request, account):
        retry_after = lockouts.pair_wait(client.request, account.name).seconds
        _audit_pause(client, account, [f"pair:{account.key}:{client.ip}"], retry_after)
        raise TooManyFailures(retry_after)
    return found


def _audit_pause(
    client: Client, account: Account | None, over: list[str], retry_after: int
) -> None:
    if any([cache.add(f"apithrottled:{key}", 1, retry_after) for key in over]):
        label = account.name if account is not None else ""
        _audit(
            client,
            account,
            "api_auth_throttled",
            f"API authentication throttled for {label or client.ip}",
        )


def _failed(client: Client, account: Account | None, how: str) -> None:
    """Count a failure against the address (and the account and pair when one is named)."""
    Budget(client.ip, account).note_failure()
    if account is not None:
        lockouts.note_pair_failure(client.request, account)
    label = account.name if account is not None else "an unknown token"
    _audit(client, account, "api_auth_failed", f"Failed API authentication ({how}) for {label}")


def _audit(
    client: Client, account: Account | None, action_type: str, message: str, **extra
) -> None:
    """Audit a refusal under the account's user name, or the masked name that matched no user
    (it may be a password typed in the wrong box); the user agent is the client's choice,
    so no control characters (PostgreSQL refuses NUL) and no longer than its column."""
    actor = Actor(
        ip=client.ip or None,
        user_agent=_printable(client.user_agent, USER_AGENT_MAX),
        label=account.name[:AUDIT_LABEL_MAX] if account is not None else "",
    )
    record(
        actor, action_type, message, target=account.user if account is not None else None, **extra
    )


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


def _token_of(user: User, token: str) -> User | None:
    """``user`` when ``token`` is their API token (remembered, else bcrypt), else None."""
    key = _credential_key("token", token)
    if _verified(
        key,
        cache.get(key),
        user,
        user.api_token_hash,
        lambda: bcrypt_check(token, user.api_token_hash),
    ):
        if user.is_active and needs_enrolment(user):
            raise MustEnrol(ENROL_FIRST)
        _touch_token(user)
        return user
    return None


def check_token(token: str, client: Client) -> User | KeyCaller | None:
    """The user owning API token ``token``, or the API key it is, or None (a failure is
    counted). A personal token costs one indexed query, a key one more.

    A token that is some user's costs no budget, so a flood of wrong ones from a shared
    address cannot lock its holders out; a wrong one is refused at once when the address
    is over its budget, so the answer tells a throttled guesser nothing.
    """
    user = (
        next(iter(users_where(("api_token_index",), [token_index(token)], CHECKED_FIELDS)), None)
        if token
        else None
    )
    if user is not None and user.api_token_hash and _token_of(user, token) is not None:
        return user
    caller = check_key(token, client.ip) if token and user is None else None
    if caller is not None:
        return caller
    _refuse_if_paused(client, None)
    _failed(client, None, "token")
    return None


def check_basic(name: str, secret: str, client: Client) -> User | None:
    """HTTP Basic: the user named ``name`` (user name or e-mail) when ``secret`` is their
    API token, or their password and no second factor protects them; else None."""
    account = lockouts.account_named(name, CHECKED_FIELDS)
    user = account.user
    is_token = (
        user is not None and user.api_token_index and user.api_token_index == token_index(secret)
    )
    if is_token and _token_of(user, secret) is not None:
        return user
    key = _credential_key("password", f"{name}\0{secret}")
    remembered = _refuse_if_paused(client, account, key).get(key)
    if user is None or not user.has_usable_password():
        bcrypt_check(secret, str(_DUMMY_HASH))
    elif not user.is_active:
        _password_matches(
            user, secret
        )  # spent all the same, never remembered: a right one answers as a wrong one
    elif has_second_factor(user) or factor_required(user):
        if _password_matches(user, secret):
            _refused_password(client, account)
            return None
    elif _verified(key, remembered, user, user.password, lambda: _password_matches(user, secret)):
        return user
    _failed(client, account, "password")
    return None


def _password_matches(user: User, password: str) -> bool:
    stored = plain_bcrypt(user.password)
    return bcrypt_check(password, stored) if stored else user.check_password(password)


def _refused_password(client: Client, account: Account) -> None:
    """The right password of a user a second factor protects: refused like a wrong one, and
    counted against the (account, address) pair only, so an old script still sending it
    cannot pause its owner's sign-in from elsewhere."""
    lockouts.note_pair_failure(client.request, account)
    _audit(
        client,
        account,
        "api_auth_failed",
        f"Failed API authentication ({PASSWORD_REFUSED}) for {account.name}",
        reason=PASSWORD_REFUSED,
    )


def _touch_token(user: User) -> None:
    """Record token use, at most once a minute so reads stay reads."""
    now = timezone.now()
    if user.api_token_last_used is None or now - user.api_token_last_used > LAST_USED_RESOLUTION:
        User.objects.filter(pk=user.pk).update(api_token_last_used=now)
        user.api_token_last_used = now
