"""Audit entries and budgets for failed sign-ins and lock-outs (sign-in and sign-out are
audited by their views).

Django's ``authenticate`` sends ``user_login_failed``; django-axes sends
``user_locked_out``. A wrong second-factor code is reported as ``user_login_failed``
too (see ``report_failure``), so axes counts it and locks out. Each failure also counts
against the address and account budgets the API shares (``users.lockouts``). A name
that matches no user is recorded masked: it may be a password typed in the wrong box.
"""

from __future__ import annotations

from axes.signals import user_locked_out
from django.contrib.auth.signals import user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from portal.client_ip import client_ip
from users import lockouts
from users.audit import Actor, record
from users.models import User


def _anonymous(request: HttpRequest | None, label: str) -> Actor:
    if request is None:
        return Actor(label=label)
    return Actor(
        ip=client_ip(request) or None,
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:1000],
        label=label,
    )


def report_failure(request: HttpRequest, user: User, stage: str) -> None:
    """A failed second step: audited and counted by axes like a wrong password."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.username}, request=request, stage=stage
    )


@receiver(user_login_failed, dispatch_uid="twofactor-audit-login-failed")
def _login_failed(
    sender, credentials: dict, request: HttpRequest | None = None, stage: str = "password", **kwargs
):
    name = str(credentials.get("username", ""))
    if request is not None:
        account = lockouts.note_signin_failure(request, name)
    else:
        account = lockouts.account_named(name, lockouts.SIGNIN_FIELDS)
    reason = failure_reason(account, stage, request)
    record(
        _anonymous(request, account.name),
        "user_login_failed",
        f"Failed sign-in for {account.name}: {reason}",
        target=account.user or account.name,
        stage=stage,
        reason=reason,
    )


_STAGE_FAILURES = {"second factor": "wrong code", "security key": "security key not accepted"}


def failure_reason(account: lockouts.Account, stage: str, request: HttpRequest | None) -> str:
    """Why a sign-in step failed, in words an admin reading the log understands (the page
    itself gives the person signing in one answer for all of them)."""
    if request is not None and getattr(request, "signin_wait", None) is not None:
        return "paused after too many failures (not checked)"
    if account.user is None:
        return "unknown name"
    if not account.user.is_active:
        return "account disabled"
    if stage != "password":
        # A stage that explains itself ("passkey: its signature counter went backwards…").
        return _STAGE_FAILURES.get(stage, stage if ":" in stage else f"{stage} not accepted")
    return "wrong password"


@receiver(user_locked_out, dispatch_uid="twofactor-audit-locked-out")
def _locked_out(
    sender, request: HttpRequest, username: str | None, ip_address: str | None, **kwargs
) -> None:
    account = lockouts.account_named(username or "", ("id", "username", "email"))
    record(
        _anonymous(request, account.name),
        "user_locked_out",
        f"Sign-in locked for {account.name} from {ip_address} after too many failures",
        target=account.user or account.name,
        ip_address=ip_address,
    )
