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

import math
import re
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import ClassVar

from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

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


SIGNIN_FIELDS = ("id", "username", "email", "is_active")  # what a failed sign-in's audit reads


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


def _window(length: int) -> tuple[int, int]:
    """The current budget window's number and the seconds left in it."""
    now = int(time.time())
    return now // length, length - now % length


@dataclass(frozen=True)
class Budget:
    """The address and account budgets of one try (``account`` None for a token).

    A subclass counts something else in its own keys, window and limits (``prefix``,
    ``window_seconds``, ``address_limit``, ``account_limit``), e.g. asks for a reset mail."""

    ip: str
    account: Account | None
    prefix: ClassVar[str] = "authfail"

    def window_seconds(self) -> int:
        return settings.AUTH_FAILURE_WINDOW

    def address_limit(self) -> int:
        return settings.AUTH_ADDRESS_FAILURE_LIMIT

    def account_limit(self) -> int:
        return settings.AUTH_ACCOUNT_FAILURE_LIMIT

    def seconds_left(self) -> int:
        """Until the current window ends (and its counts with it): the 429's Retry-After."""
        return _window(self.window_seconds())[1]

    def limits(self) -> dict[str, int]:
        window, _ = _window(self.window_seconds())
        limits = {f"{self.prefix}:{window}:ip:{self.ip}": self.address_limit()}
        if self.account is not None:
            limits[f"{self.prefix}:{window}:account:{self.account.key}"] = self.account_limit()
        return limits

    def check(self, *also: str) -> dict:
        """Raise Paused when over a budget; else return what the cache holds under ``also``
        (one round trip for the budgets and the caller's own keys)."""
        limits = self.limits()
        found = cache.get_many([*limits, *also])
        over = [key for key, limit in limits.items() if found.get(key, 0) >= limit]
        if over:
            raise Paused(_window(self.window_seconds())[1], over)
        return found

    def note_failure(self) -> bool:
        """Count one more; returns whether that one was still within every budget (the cache
        counts atomically, so of concurrent tries only the limit's worth are)."""
        return not self.note_over()

    def note_over(self) -> list[str]:
        """Count one more; the keys of the budgets that one went past (none: within all)."""
        _, left = _window(self.window_seconds())
        over = []
        for key, limit in self.limits().items():
            count = 1
            if not cache.add(key, 1, left + 1):
                try:
                    count = cache.incr(key)
                except ValueError:  # expired between add and incr
                    cache.add(key, 1, left + 1)
            if count > limit:
                over.append(key)
        return over


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


def _pair_lock_ends(attempts: list[tuple[datetime, int]]) -> datetime | None:
    """When django-axes stops locking one (account, address) pair, from its records (attempt
    time, failures) within the cool-off, or None when it does not lock it. axes sums them and
    forgets each one a cool-off after its time, so the lock ends when enough are forgotten."""
    failures = sum(count for _, count in attempts)
    for attempt_time, count in sorted(attempts):
        if failures < settings.AXES_FAILURE_LIMIT:
            break
        failures -= count
        if failures < settings.AXES_FAILURE_LIMIT:
            return attempt_time + settings.AXES_COOLOFF_TIME
    return None


def _pairs_locked(username: str, ip: str | None = None) -> dict[str, datetime]:
    """The addresses from which django-axes locks ``username``, each with the lock's end."""
    now = timezone.now()
    attempts = AccessAttempt.objects.filter(
        username=username, attempt_time__gte=now - settings.AXES_COOLOFF_TIME
    )
    if ip is not None:
        attempts = attempts.filter(ip_address=ip)
    by_address: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
    for address, attempt_time, count in attempts.values_list(
        "ip_address", "attempt_time", "failures_since_start"
    ):
        by_address[address].append((attempt_time, count))
    ends = {address: _pair_lock_ends(rows) for address, rows in by_address.items()}
    return {address: end for address, end in ends.items() if end is not None and end > now}


@dataclass(frozen=True)
class Wait:
    """How long a sign-in from here must wait; ``address`` when it is this network address's
    budget (any account): lifting an account's lock-out does not end that."""

    seconds: int
    address: bool = False


def pair_wait(request: HttpRequest, name: str) -> Wait:
    """The wait of a pair django-axes locks: until its lock ends (its whole cool-off when
    the records say otherwise, e.g. a lock-out lifted meanwhile)."""
    ends = _pairs_locked(name, client_ip(request))
    if not ends:
        return Wait(cooloff_seconds())
    return Wait(max(1, math.ceil((max(ends.values()) - timezone.now()).total_seconds())))


def signin_pause(request: HttpRequest, name: str, *, account_wide: bool = True) -> Wait | None:
    """How long ``name`` must wait before signing in from this request's address, or None
    when it may now: over the address or account budget, or the pair is locked.

    ``account_wide=False`` (re-authentication in a session that is already signed in) leaves
    the account budget out: strangers guessing from many addresses must not be able to stop
    signed-in admins from confirming it is them (and so from lifting the pause)."""
    account = account_named(name, ("id", "username"))
    try:
        Budget(client_ip(request), account if account_wide else None).check()
    except Paused as exc:
        return Wait(exc.retry_after, address=all(":ip:" in key for key in exc.over))
    return pair_wait(request, account.name) if pair_locked(request, account) else None


@dataclass(frozen=True)
class AccountPause:
    """Why and until when an account's sign-in is paused (for the admin on the user's page)."""

    until: datetime
    addresses: list[str]  # from which django-axes locks it
    everywhere: bool  # over the account budget: paused from every address


def account_pause(user: User) -> AccountPause | None:
    """``user``'s sign-in pause as an admin's lift would end it (the pairs and the account
    budget; an address's own budget is not theirs), or None: one query and one cache read."""
    ends = _pairs_locked(user.username)
    budget = Budget("", Account(user, user.username))
    (key,) = (k for k in budget.limits() if ":account:" in k)
    everywhere = cache.get(key, 0) >= budget.account_limit()
    if everywhere:
        ends["*"] = timezone.now() + timedelta(seconds=_window(budget.window_seconds())[1])
    if not ends:
        return None
    addresses = sorted(address for address in ends if address != "*")
    return AccountPause(max(ends.values()), addresses, everywhere)


def address_pause(request: HttpRequest) -> Wait | None:
    """How long this request's address must wait before signing in (over its budget), or
    None: the only budget a sign-in that names no account yet (a passkey's) can be held to."""
    try:
        Budget(client_ip(request), None).check()
    except Paused as exc:
        return Wait(exc.retry_after, address=True)
    return None


def note_signin_failure(request: HttpRequest, name: str) -> Account:
    """Count a failed page sign-in step against the address and account budgets (django-axes
    counts the pair itself); a try refused because of a pause counts nowhere, as in axes."""
    account = account_named(name, SIGNIN_FIELDS)
    if getattr(request, "signin_wait", None) is None:  # set when the try was refused unchecked
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
