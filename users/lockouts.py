"""Failed sign-in budgets shared by the pages and the API, and lifting a lock-out.

Every failure counts: a wrong password on the sign-in or re-authentication page, a wrong
second-factor code, a wrong password (or a refused one) in API Basic auth. It is counted
against up to three budgets, so guessing stays slow without one person locking out others:

- the (account, address) pair: django-axes locks it after ``AXES_FAILURE_LIMIT`` failures
  for ``AXES_COOLOFF_TIME`` (both faces feed and read the same axes records);
- the account, from any address: past ``AUTH_ACCOUNT_FAILURE_LIMIT`` failures in a window of
  ``AUTH_FAILURE_WINDOW`` seconds every try answers 429 with Retry-After until the window
  ends (a pause, never a lock and never a server-side sleep);
- the address, for any account: past ``AUTH_ADDRESS_FAILURE_LIMIT`` (set well above the pair
  limit, so one person's typos do not pause everyone behind a shared address), 429 likewise.
  Wrong API tokens count here only: they name no account.

An account is the resolved user: their user name, e-mail and any letter case of it are one
account (counted by primary key). A name that matches no user is counted, and shown in
the audit log and the axes records, only as a keyed hash (``masked``): it is often a
password typed in the wrong box.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest

from portal.client_ip import client_ip

from .audit import Actor, record
from .lookup import user_by_name_or_email
from .models import User
from .tokens import keyed_digest

_MASK_PREFIX = "unknown name #"
_MASKED = re.compile(r"unknown name #[0-9a-f]{16}\Z")


def masked(name: str) -> str:
    """A name that matches no user, as the audit log and the counters keep it: a keyed hash
    (the same typed name always gives the same mask, so repeated tries stay visible)."""
    if _MASKED.match(name):
        return name
    return _MASK_PREFIX + keyed_digest("unknown-sign-in-name", name)[:16]


@dataclass(frozen=True)
class Account:
    """Who a typed name means: a user, or (``user`` None) the masked name."""

    user: User | None
    name: str  # the user name, or the masked typed name: what axes counts and the audit log shows
    key: str = field(init=False)

    def __post_init__(self) -> None:
        key = (
            f"user:{self.user.pk}"
            if self.user is not None
            else "name:" + self.name.removeprefix(_MASK_PREFIX)
        )
        object.__setattr__(self, "key", key)

    @property
    def label(self) -> str:
        return self.user.label if self.user is not None else self.name


def account_named(name: str, fields: tuple[str, ...] = ()) -> Account:
    """The account ``name`` means (``users.lookup.user_by_name_or_email``), loading only
    ``fields``."""
    user = None if _MASKED.match(name) else user_by_name_or_email(name, fields)
    return Account(user, user.username if user is not None else masked(name))


class Paused(Exception):
    """Over a budget: the caller answers 429 with ``retry_after`` seconds."""

    def __init__(self, retry_after: int, over: list[str]) -> None:
        super().__init__("Too many failed attempts")
        self.retry_after = retry_after
        self.over = over


def _window() -> tuple[int, int]:
    """The current budget window's number and the seconds left in it."""
    length = settings.AUTH_FAILURE_WINDOW
    now = int(time.time())
    return now // length, length - now % length


@dataclass(frozen=True)
class Budget:
    """The address and account budgets of one try (``account`` None for a token)."""

    ip: str
    account: Account | None

    def limits(self) -> dict[str, int]:
        window, _ = _window()
        limits = {f"authfail:{window}:ip:{self.ip}": settings.AUTH_ADDRESS_FAILURE_LIMIT}
        if self.account is not None:
            limits[f"authfail:{window}:account:{self.account.key}"] = (
                settings.AUTH_ACCOUNT_FAILURE_LIMIT
            )
        return limits

    def check(self, *also: str) -> dict:
        """Raise Paused when over a budget; else return what the cache holds under ``also``
        (one round trip for the budgets and the caller's own keys)."""
        limits = self.limits()
        found = cache.get_many([*limits, *also])
        over = [key for key, limit in limits.items() if found.get(key, 0) >= limit]
        if over:
            raise Paused(_window()[1], over)
        return found

    def note_failure(self) -> None:
        _, left = _window()
        for key in self.limits():
            if not cache.add(key, 1, left + 1):
                try:
                    cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.add(key, 1, left + 1)


def cooloff_seconds() -> int:
    return int(settings.AXES_COOLOFF_TIME.total_seconds())


def pair_locked(request: HttpRequest, account: Account) -> bool:
    """django-axes has locked this account from this request's address."""
    return not AxesProxyHandler.is_allowed(request, {"username": account.name})


def note_pair_failure(request: HttpRequest, account: Account) -> None:
    """Count an API failure in django-axes, as a failed page sign-in is counted. The API
    answers for itself, so the flag axes sets for its middleware's lock-out page is cleared."""
    AxesProxyHandler.user_login_failed(__name__, {"username": account.name}, request)
    request.axes_locked_out = False


def signin_pause(request: HttpRequest, name: str, *, account_wide: bool = True) -> int | None:
    """Seconds before ``name`` may try to sign in again from this request's address, or
    None when it may now: over the address or account budget, or the pair is locked.

    ``account_wide=False`` (re-authentication in a session that is already signed in) leaves
    the account budget out: strangers guessing from many addresses must not be able to stop
    signed-in admins from confirming it is them (and so from lifting the pause)."""
    account = account_named(name, ("id", "username"))
    try:
        Budget(client_ip(request), account if account_wide else None).check()
    except Paused as exc:
        return exc.retry_after
    return cooloff_seconds() if pair_locked(request, account) else None


def address_pause(request: HttpRequest) -> int | None:
    """Seconds before this request's address may try to sign in again (over its budget), or
    None: the only budget a sign-in that names no account yet (a passkey's) can be held to."""
    try:
        Budget(client_ip(request), None).check()
    except Paused as exc:
        return exc.retry_after
    return None


def note_signin_failure(request: HttpRequest, name: str) -> Account:
    """Count a failed page sign-in step against the address and account budgets (django-axes
    counts the pair itself); a try refused because of a pause counts nowhere, as in axes."""
    account = account_named(name, ("id", "username", "email"))
    if (
        getattr(request, "signin_retry_after", None) is None
    ):  # set when the try was refused unchecked
        Budget(client_ip(request), account).note_failure()
    return account


def lift(actor: Actor, user: User) -> int:
    """Lift ``user``'s sign-in lock-out: django-axes' records for them (every address) and
    their account budget. Audited. Returns how many axes records were removed."""
    with transaction.atomic():
        removed = axes_reset(username=user.username)
        record(
            actor,
            "user_lockout_lift",
            f"Sign-in lock-out of {user.label} lifted",
            target=user,
            removed_attempts=removed,
        )
    account_keys = [
        key for key in Budget("", Account(user, user.username)).limits() if ":account:" in key
    ]
    cache.delete_many(account_keys)
    return removed
