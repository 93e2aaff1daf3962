"""'Forgot password?': anyone may ask for a reset mail by user name or e-mail.

The asker always gets the same answer (the page never says whether the name exists), so
what happened is told only to the audit log: a mail is queued (``services.reset_password``,
the same mail and one-time link as an admin's reset) only for an active user with an
e-mail, while the org allows self-service reset and the ask is within its budgets. Asks are
budgeted per address (any name) and per account (however it is typed) in a window, on the
sign-in budgets' pattern (``users.lockouts.Budget``): past a limit an ask sends nothing
more, and only the first ask past each budget in a window is audited. Sending happens later
in the mail worker, so no SMTP time shows in the answer.
"""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from . import services
from .audit import Actor, record
from .lockouts import Account, Budget, account_named
from .models import OrgSetting

ACTION = "user_password_reset_request"  # a mail was queued for the asker
REFUSED = "user_password_reset_request_refused"  # nothing was sent (the reason is recorded)
AUDITED = "audited:"  # marks a budget whose first throttled ask is in the audit log


class ResetAskBudget(Budget):
    """Reset asks, counted apart from failed sign-ins."""

    prefix = "resetask"

    def window_seconds(self) -> int:
        return settings.PASSWORD_RESET_WINDOW

    def address_limit(self) -> int:
        return settings.PASSWORD_RESET_ADDRESS_LIMIT

    def account_limit(self) -> int:
        return settings.PASSWORD_RESET_ACCOUNT_LIMIT


def self_service_allowed() -> bool:
    return OrgSetting.load().self_service_password_reset


def ask_for_reset(actor: Actor, name: str) -> str:
    """Queue a reset mail for the account ``name`` means, if it may have one; returns what
    happened (``"queued"`` or why not), for the audit log and tests, never for the asker."""
    account = account_named(name.strip())
    if not self_service_allowed():  # switched off since the page was shown
        return _refused(actor, account, "self-service reset is off")
    # Every ask spends the budgets, whatever it finds; counted before it is judged, so
    # concurrent asks cannot all slip under a limit.
    budget = ResetAskBudget(actor.ip or "", account)
    if over := budget.note_over():
        if _first_past(over, budget.seconds_left()):
            return _refused(actor, account, "throttled")
        return "throttled"
    user = account.user
    if user is None:
        return _refused(actor, account, "no such user")
    if not user.is_active:
        return _refused(actor, account, "disabled")
    if not user.email:
        return _refused(actor, account, "no e-mail address")
    services.reset_password(actor, user, action_type=ACTION)
    return "queued"


def _first_past(over: list[str], seconds_left: int) -> bool:
    """Whether this ask is the first past one of the budgets ``over`` in this window: only
    that one is audited, so a flood of asks cannot flood the audit log (the rest still count).
    """
    firsts = [cache.add(AUDITED + key, True, seconds_left + 1) for key in over]
    return any(firsts)


def _refused(actor: Actor, account: Account, reason: str) -> str:
    """Audited in a transaction of its own, as a queued mail is, so that no answer costs
    noticeably more round trips than another (bench/forgot_password_bench.py)."""
    with transaction.atomic():
        record(
            actor,
            REFUSED,
            f"Password reset asked for {account.label}: nothing sent ({reason})",
            target=account.user or account.name,
            reason=reason,
        )
    return reason
