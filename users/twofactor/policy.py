"""Who needs a second factor, and whether a signed-in session has passed one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.lib.compiled_lookup import rows_where
from users.models import OrgSetting, User, WebAuthnCredential

from .errors import FactorRefused


def has_second_factor(user: User) -> bool:
    """A confirmed TOTP device or a security key (recovery codes alone do not count)."""
    return (
        TOTPDevice.objects.filter(user=user, confirmed=True).exists()
        or WebAuthnCredential.objects.filter(user=user).exists()
    )


_ENFORCEMENT_FIELDS = ("globally_enforce_2fa", "enforced_since", "grace_period_hours")


@dataclass(frozen=True)
class OrgEnforcement:
    """The org's switch as one read: on or off, since when, and the grace period."""

    on: bool = False
    since: datetime | None = None
    grace_hours: int = 0

    @classmethod
    def read(cls) -> OrgEnforcement:
        """One query, and never the insert of OrgSetting.load(). Every token call runs it, so
        its SQL is compiled once per connection (``portal.lib.compiled_lookup``): compiling
        the queryset cost more than the rest of the credential check."""
        rows = rows_where(OrgSetting, ("pk",), [1], _ENFORCEMENT_FIELDS)
        if not rows:
            return cls()
        row = rows[0]
        return cls(row.globally_enforce_2fa, row.enforced_since, row.grace_period_hours)

    def deadline_for(self, user: User) -> datetime | None:
        """When the switch requires ``user`` to have a factor: ``grace_hours`` after it went
        on for users who existed then, after their account's creation for later ones."""
        if not self.on:
            return None
        start = max(self.since, user.date_joined) if self.since else user.date_joined
        return start + timedelta(hours=self.grace_hours)


def enforcement_applies(user: User) -> bool:
    """The org enforces 2FA for everyone, or this user was added with ``totp_enabled``
    (whether or not their grace period is over)."""
    return user.must_enroll_2fa or OrgEnforcement.read().on


@dataclass(frozen=True)
class Requirement:
    """Why ``user`` must have a second factor ("org-wide", "set when added"; "" for no reason)
    and from when (the profile's "2FA required")."""

    why: str = ""
    deadline: datetime | None = None

    @property
    def in_grace(self) -> bool:
        return self.deadline is not None and not _passed(self.deadline)


def requirement(user: User, org: OrgEnforcement | None = None) -> Requirement:
    """A user added with ``totp_enabled`` is required from their account's creation (no grace:
    an admin asked for it by name). The org switch gives everyone its grace period, counted
    from the stored start, so shortening the period applies at once (GitLab bug 29702).
    """
    if user.must_enroll_2fa:
        return Requirement("set when added", user.date_joined)
    org = org or OrgEnforcement.read()
    return Requirement("org-wide", org.deadline_for(user)) if org.on else Requirement()


def enrolment_deadline(user: User, org: OrgEnforcement | None = None) -> datetime | None:
    """From when ``user`` is required to have a second factor; None while nothing requires one."""
    return requirement(user, org).deadline


def factor_required(user: User) -> bool:
    """The one definition of "required to have a factor": the user's enrolment deadline has
    passed. The API's refusal of passwords and tokens and the pages' enrolment wall ask this."""
    return _passed(enrolment_deadline(user))


def _passed(deadline: datetime | None) -> bool:
    return deadline is not None and deadline <= timezone.now()


@dataclass(frozen=True)
class Enrolment:
    """What enforcement means for one user now (``enrolment``): read once per page."""

    deadline: datetime | None
    has_factor: bool

    @property
    def must_enrol(self) -> bool:
        """Required and without a factor: only enrolment and sign-out until they have one."""
        return _passed(self.deadline) and not self.has_factor

    @property
    def in_grace(self) -> bool:
        """Will be required at ``deadline`` and has no factor yet: a reminder, no wall."""
        return self.deadline is not None and not _passed(self.deadline) and not self.has_factor


def enrolment(user: User) -> Enrolment:
    """The user's deadline and, only when they have one, whether they have a factor: one query
    for most users, three for those enforcement applies to."""
    deadline = enrolment_deadline(user)
    return Enrolment(deadline, deadline is not None and has_second_factor(user))


def needs_enrolment(user: User) -> bool:
    """True while a user required to have a factor has none: they may only enrol or sign out
    (and use no API credential)."""
    return enrolment(user).must_enrol


def ensure_not_last_factor(
    user: User, *, removing_totp: bool = False, removing_keys: int = 0
) -> None:
    """An enforced user may not remove their last factor themselves (an admin reset may)."""
    if not enforcement_applies(user):
        return
    left = user.webauthn_credentials.count() - removing_keys
    if not removing_totp:
        left += TOTPDevice.objects.filter(user=user, confirmed=True).count()
    if left <= 0:
        raise FactorRefused(
            "Two-factor sign-in is required for your account: add another factor before removing "
            "this one."
        )
