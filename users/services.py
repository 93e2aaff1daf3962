"""Business rules for users and org settings: the one place every face calls.

Each function validates everything first, then writes in one transaction that
also holds its audit entry, so a refused action changes nothing.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.lib.errors import Conflict, Forbidden, InvalidInput, NotFound

from . import mail, selectors
from .audit import Actor, record
from .hashers import BCRYPT_MAX_BYTES, bcrypt_hash
from .models import (
    GRACE_PERIOD_MAX_HOURS,
    AccessLevel,
    AuditEntry,
    OrgSetting,
    User,
    WebAuthnCredential,
)
from .tokens import generate_token, token_index
from .twofactor.policy import has_second_factor

USERNAME_MAX_LENGTH = 150
ANOTHER_ADMIN = (
    "An admin's password and token can be changed only by that admin, not through another."
)


def clean_email(value: str, field: str = "email") -> str:
    """A valid e-mail address, lower-cased, or InvalidInput naming ``field``."""
    value = (value or "").strip()
    if not value:
        raise InvalidInput(f"Missing parameter: {field}", field=field)
    try:
        validate_email(value)
    except ValidationError:
        raise InvalidInput(f"Invalid email address in {field}: {value!r}", field=field) from None
    return value.lower()


def clean_access_level(value: str, field: str = "access_level") -> str:
    if value not in AccessLevel.values:
        raise InvalidInput(f"Invalid {field}: must be 'admin' or 'user'", field=field)
    return value


def clean_username(value: str) -> str:
    if not value or len(value) > USERNAME_MAX_LENGTH:
        raise InvalidInput(
            f"user_name must be 1 to {USERNAME_MAX_LENGTH} characters", field="user_name"
        )
    try:
        UnicodeUsernameValidator()(value)
    except ValidationError:
        raise InvalidInput(
            "user_name may contain only letters, digits and @ . + - _", field="user_name"
        ) from None
    return value


def clean_secret(value: object, field: str) -> str:
    """A password or token: a non-empty string bcrypt can hash without truncation."""
    if not isinstance(value, str) or not value:
        raise InvalidInput(f"{field} must be a non-empty string", field=field)
    if len(value.encode()) > BCRYPT_MAX_BYTES:
        raise InvalidInput(f"{field} must be at most {BCRYPT_MAX_BYTES} bytes", field=field)
    if "\x00" in value:
        raise InvalidInput(f"{field} must not contain NUL characters", field=field)
    return value


def clean_note(value: str) -> str:
    if "\x00" in value:
        raise InvalidInput("note must not contain NUL characters", field="note")
    return value


def get_user_by_email(email: str) -> User:
    email = clean_email(email)
    try:
        return User.objects.get(email=email)
    except User.DoesNotExist:
        raise NotFound(f"User ({email}) does not exist.") from None


def get_user_by_username(username: str, fields: tuple[str, ...] = ()) -> User:
    """The user named ``username``, with only ``fields`` loaded when given (see ``users_where``)."""
    for user in selectors.users_where(("username",), [username], fields):
        return user
    raise NotFound(f"User ({username}) does not exist.")


def _locked(user: User) -> User:
    """Re-read ``user`` under a row lock inside the current transaction."""
    locked = User.objects.select_for_update().filter(pk=user.pk).first()
    if locked is None:
        raise NotFound(f"User ({user.label}) does not exist.")
    return locked


def _locked_with_active_admins(user: User) -> tuple[User, list[User]]:
    """``user`` and every other active admin, all re-read under row locks, by one query in id order.

    One query taking its locks in one order lets two admins demoting each other at once
    queue instead of deadlocking; the second sees the first's change.
    """
    rows = list(
        User.objects.select_for_update()
        .filter(Q(pk=user.pk) | Q(is_active=True, access_level=AccessLevel.ADMIN))
        .order_by("pk")
    )
    locked = next((row for row in rows if row.pk == user.pk), None)
    if locked is None:
        raise NotFound(f"User ({user.label}) does not exist.")
    return locked, [row for row in rows if row.pk != user.pk and row.is_active and row.is_admin]


def refuse_if_last_active_admin(user: User, action: str) -> User:
    """The portal always keeps an active admin: refuse to ``action`` (demote, disable, remove)
    ``user`` when they are the last one. Returns ``user`` as locked (with every active admin)
    for the caller's change, so no concurrent change can take away the other admins meanwhile."""
    locked, other_admins = _locked_with_active_admins(user)
    if locked.is_active and locked.is_admin and not other_admins:
        raise Conflict(f"Cannot {action} the last active admin.")
    return locked


def _lock_name(name: str) -> None:
    """Make creates of one name (in any letter case) queue, whether it comes as an e-mail or a user
    name.

    Sign-in and Basic auth take either, so no user may be named after another's e-mail. The
    unique indexes guard each column alone; on PostgreSQL two creates could each check the
    other column before either commits, so they take one advisory lock per name for the
    transaction. SQLite's IMMEDIATE transactions already run one writer at a time.
    """
    if connection.vendor != "postgresql":
        return
    digest = hashlib.blake2b(
        name.lower().encode(), digest_size=8, person=b"portal-username"
    ).digest()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest, "big", signed=True)]
        )


def add_user(
    actor: Actor,
    *,
    email: str,
    access_level: str,
    note: str = "",
    require_2fa: bool = False,
    send_welcome_mail: bool = True,
) -> User:
    """Add a user by e-mail (the e-mail is also the user name); they set a password by mail."""
    email = clean_email(email)
    if len(email) > USERNAME_MAX_LENGTH:  # the e-mail becomes the user name
        raise InvalidInput(
            f"email longer than maximum ({USERNAME_MAX_LENGTH} characters).", field="email"
        )
    access_level = clean_access_level(access_level)
    note = clean_note(note)
    try:
        with transaction.atomic():
            _lock_name(email)
            if User.objects.filter(Q(email=email) | Q(username__iexact=email)).exists():
                raise Conflict(f"User ({email}) already exists.", field="email")
            user = User.objects.create_user(
                username=email,
                email=email,
                access_level=access_level,
                note=note,
                must_enroll_2fa=require_2fa,
            )
            record(
                actor,
                "user_add",
                f"Added user {email} with access level {access_level}",
                target=user,
                access_level=access_level,
                totp_enabled=require_2fa,
            )
            if send_welcome_mail:
                mail.queue_welcome(user, actor)
    except IntegrityError:
        raise Conflict(f"User ({email}) already exists.", field="email") from None
    return user


def name_taken(username: str) -> bool:
    """A user name is taken when it is any user's user name or e-mail in any letter case:
    names that differ only in case look alike in the audit log and at sign-in."""
    return User.objects.filter(Q(username__iexact=username) | Q(email=username.lower())).exists()


def create_named_user(
    actor: Actor, *, username: str, password: str, token: str | None = None
) -> User:
    """Add a user by user name with a password (and optionally a token), as the v2 API does."""
    username = clean_username(username)
    password = clean_secret(password, "password")
    if token is not None:
        token = clean_secret(token, "token")
    user = User(username=username)
    user.password = _password_hash(user, password)
    if token is not None:
        for name, value in _token_columns(token).items():
            setattr(user, name, value)
    try:
        with transaction.atomic():
            _lock_name(username)
            if name_taken(username):
                raise Conflict(f"User ({username}) already exists.", field="user_name")
            user.save()
            record(actor, "user_add", f"Added user {username}", target=user)
    except IntegrityError:
        # A concurrent create of the same name, or a token another user already has.
        if User.objects.filter(username=username).exists():
            raise Conflict(f"User ({username}) already exists.", field="user_name") from None
        raise Conflict("That token is already in use.", field="token") from None
    return user


def _password_hash(user: User, password: str) -> str:
    """The stored form of ``password`` once the password validators accept it for ``user``."""
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise InvalidInput("password: " + " ".join(exc.messages), field="password") from None
    return make_password(password)


def _token_columns(token: str | None) -> dict[str, object]:
    """The token columns for ``token`` (hashed here, outside any lock), or cleared for None."""
    if token is None:
        return {
            "api_token_hash": "",
            "api_token_index": None,
            "api_token_created": None,
            "api_token_last_used": None,
        }
    return {
        "api_token_hash": bcrypt_hash(token),
        "api_token_index": token_index(token),
        "api_token_created": timezone.now(),
        "api_token_last_used": None,
    }


def _write(user: User, columns: dict[str, object], end_sessions: bool = False) -> User:
    """Write only ``columns`` (and ``updated``) to the row of ``user``, which must be locked.

    Saving just these columns means a copy of the row loaded before a concurrent
    change (a disable, a demotion) can never write that change back. ``end_sessions``
    raises the session generation (see ``User.get_session_auth_hash``): every session
    of the user is refused from its next request.
    """
    for name, value in columns.items():
        setattr(user, name, value)
    fields = [*columns, "updated"]
    if end_sessions:
        user.session_generation += 1  # no lost increment: the caller holds the row lock
        fields.append("session_generation")
    user.save(update_fields=fields)
    return user


def update_credentials(
    actor: Actor,
    user: User,
    *,
    password: str | None = None,
    token: str | None = None,
    unless_admin_other_than: User | None = None,
) -> User:
    """Change the password and/or token; either alone leaves the other as it is.

    Both are hashed before the row lock is taken (bcrypt is slow), then only their
    columns are written under the lock. A new password ends every session (the
    security page then keeps the one it was changed from). Returns the user as now stored.
    With ``unless_admin_other_than`` (the API's caller) an admin's credentials may be
    changed only by that admin (see ``refuse_another_admin``).
    """
    if password is None and token is None:
        raise InvalidInput("Give password and/or token", field="password")
    columns: dict[str, object] = {}
    if password is not None:
        password = clean_secret(password, "password")
        columns["password"] = _password_hash(user, password)
    if token is not None:
        columns |= _token_columns(clean_secret(token, "token"))
    changed = [
        name for name, value in (("password", password), ("token", token)) if value is not None
    ]
    try:
        with transaction.atomic():
            user = _locked(user)
            refuse_another_admin(user, unless_admin_other_than)
            user = _write(user, columns, end_sessions=password is not None)
            record(
                actor,
                "user_credentials_change",
                f"Changed {' and '.join(changed)} of {user.label}",
                target=user,
                changed=changed,
            )
    except IntegrityError:
        raise Conflict("That token is already in use.", field="token") from None
    return user


def issue_api_token(
    actor: Actor, user: User, *, unless_admin_other_than: User | None = None
) -> str:
    """Make a new random API token for ``user``; the plain token is returned only here."""
    token = generate_token()
    columns = _token_columns(token)
    with transaction.atomic():
        user = _locked(user)
        refuse_another_admin(user, unless_admin_other_than)
        user = _write(user, columns)
        record(
            actor, "user_api_token_create", f"Issued a new API token for {user.label}", target=user
        )
    return token


def end_sessions(user: User) -> User:
    """End every session of ``user`` (a new first factor, or a replaced one: a session opened
    with the password alone must not outlive it); returns the user as now stored."""
    with transaction.atomic():
        return _write(_locked(user), {}, end_sessions=True)


def recently_admin(user: User) -> bool:
    """An admin now, or demoted within ``settings.ADMIN_CREDENTIALS_COOLDOWN`` (from the
    audit log)."""
    if user.is_admin:
        return True
    since = timezone.now() - settings.ADMIN_CREDENTIALS_COOLDOWN
    return AuditEntry.objects.filter(
        target=user,
        action_type="user_access_level_change",
        timestamp__gte=since,
        additional_information__before="admin",
    ).exists()


def refuse_another_admin(user: User, caller: User | None) -> None:
    """Refuse, under the row lock of ``user``, a change of an admin's (or a recently demoted
    admin's) credentials asked by ``caller``, another person: one admin may not become another."""
    if caller is not None and caller.pk != user.pk and recently_admin(user):
        raise Forbidden(ANOTHER_ADMIN)


def revoke_api_token(actor: Actor, user: User) -> None:
    with transaction.atomic():
        user = _write(_locked(user), _token_columns(None))
        record(
            actor, "user_api_token_revoke", f"Revoked the API token of {user.label}", target=user
        )


def set_note(actor: Actor, user: User, note: str, action_type: str = "user_note_add") -> User:
    note = clean_note(note)
    with transaction.atomic():
        user = _write(_locked(user), {"note": note})
        record(actor, action_type, f"Set the note of {user.label}", target=user, note=note)
    return user


def remove_note(actor: Actor, user: User) -> User:
    with transaction.atomic():
        user = _write(_locked(user), {"note": ""})
        record(actor, "user_note_remove", f"Removed the note of {user.label}", target=user)
    return user


def set_access_level(actor: Actor, user: User, access_level: str) -> User:
    access_level = clean_access_level(access_level)
    with transaction.atomic():
        demoting = access_level == AccessLevel.USER
        user = refuse_if_last_active_admin(user, "demote") if demoting else _locked(user)
        before = user.access_level
        _write(user, {"access_level": access_level})
        record(
            actor,
            "user_access_level_change",
            f"Changed access level of {user.label} from {before} to {access_level}",
            target=user,
            before=before,
            after=access_level,
        )
    return user


def set_active(actor: Actor, user: User, active: bool) -> User:
    """Enable or disable a user. Their own choices (the summary mail) stay as they were.

    Disabling ends every session for good: enabling again brings none of them back.
    """
    with transaction.atomic():
        user = _locked(user) if active else refuse_if_last_active_admin(user, "disable")
        _write(user, {"is_active": active}, end_sessions=not active)
        verb = "enable" if active else "disable"
        record(actor, f"user_{verb}", f"{verb.capitalize()}d user {user.label}", target=user)
    return user


def remove_user(actor: Actor, user: User) -> None:
    with transaction.atomic():
        user = refuse_if_last_active_admin(user, "remove")
        label = user.label
        record(actor, "user_remove", f"Removed user {label}", target=user)
        user.delete()


def set_summary_email(actor: Actor, user: User, enabled: bool) -> User:
    verb = "enable" if enabled else "disable"
    with transaction.atomic():
        user = _write(_locked(user), {"summary_email_enabled": enabled})
        record(
            actor,
            f"user_summary_email_{verb}",
            f"{verb.capitalize()}d summary email for {user.label}",
            target=user,
        )
    return user


def reset_password(actor: Actor, user: User, action_type: str = "user_password_reset") -> None:
    """Mail the user a one-time link to choose a new password (an admin's reset, or the
    user's own "Forgot password?" ask: ``users.reset_requests``)."""
    if not user.email:
        raise InvalidInput(f"User ({user.username}) has no email address.", field="email")
    with transaction.atomic():
        record(actor, action_type, f"Sent a password reset mail to {user.email}", target=user)
        mail.queue_password_reset(user, actor)


def disable_totp(actor: Actor, user: User) -> int:
    """Remove the user's authenticator app (TOTP devices), and their recovery codes when no
    factor is left."""
    return _remove_factors(actor, user, totp=True)[0]


def disable_webauthn(actor: Actor, user: User) -> int:
    """Remove the user's security keys (and their recovery codes when no factor is left)."""
    return _remove_factors(actor, user, webauthn=True)[1]


def reset_second_factors(actor: Actor, user: User) -> tuple[int, int]:
    """Remove every second factor at once (one mail): the authenticator apps and security keys
    removed."""
    return _remove_factors(actor, user, totp=True, webauthn=True)


def _remove_factors(
    actor: Actor, user: User, *, totp: bool = False, webauthn: bool = False
) -> tuple[int, int]:
    """Remove factors under the user's row lock, each kind audited.

    Done by anyone but the user themselves (an admin, the server's shell) it is a reset:
    it ends every session of the user, since one of them may be why, and tells them by mail.
    """
    apps, keys = 0, []
    with transaction.atomic():
        user = _locked(user)
        if totp:
            apps, _ = TOTPDevice.objects.filter(user=user).delete()
            record(
                actor,
                "user_2fa_disable",
                f"Reset the authenticator app of {user.label}",
                target=user,
                devices_removed=apps,
            )
        if webauthn:
            keys = list(WebAuthnCredential.objects.filter(user=user).values_list("name", flat=True))
            WebAuthnCredential.objects.filter(user=user).delete()
            record(
                actor,
                "user_webauthn_disable",
                f"Reset the security keys of {user.label}",
                target=user,
                keys_removed=keys,
            )
        drop_recovery_codes_if_no_factor(user)
        if actor.user is None or actor.user.pk != user.pk:
            _write(user, {}, end_sessions=True)
            if (apps or keys) and user.email:
                mail.queue_factors_reset(user, actor, apps, keys)
    return apps, len(keys)


def drop_recovery_codes_if_no_factor(user: User) -> None:
    """Recovery codes stand in for a factor, so they go with the last one."""
    if not has_second_factor(user):
        StaticDevice.objects.filter(user=user).delete()


def clean_grace_period_hours(value: object, field: str = "grace_period_hours") -> int:
    """A grace period: a whole number of hours from 0 to GRACE_PERIOD_MAX_HOURS."""
    text = str(value).strip()
    if not (text.isascii() and text.isdigit()) or int(text) > GRACE_PERIOD_MAX_HOURS:
        raise InvalidInput(
            f"Invalid {field}: a whole number of hours from 0 to {GRACE_PERIOD_MAX_HOURS}",
            field=field,
        )
    return int(text)


def set_global_2fa(
    actor: Actor, enabled: bool, grace_period_hours: int | str | None = None
) -> OrgSetting:
    """Switch globally enforced 2FA on or off, and set the grace period when one is given.

    Switching it on starts the clock (``enforced_since``) unless it was on already; switching
    it off stops it. The period is stored as hours, so a new one applies to everyone at once.
    Audited as the switch (every call that names it, as v1 always did), or as a new grace
    period when only that changed.
    """
    if grace_period_hours is not None:
        grace_period_hours = clean_grace_period_hours(grace_period_hours)
    with transaction.atomic():
        OrgSetting.load()
        org = OrgSetting.objects.select_for_update().get(pk=1)
        was_on, was_hours = org.globally_enforce_2fa, org.grace_period_hours
        columns: dict[str, object] = {"globally_enforce_2fa": enabled}
        if enabled and not (was_on and org.enforced_since):
            columns["enforced_since"] = timezone.now()
        elif not enabled:
            columns["enforced_since"] = None
        if grace_period_hours is not None:
            columns["grace_period_hours"] = grace_period_hours
        for name, value in columns.items():
            setattr(org, name, value)
        org.save(update_fields=[*columns, "updated"])
        hours, ends = org.grace_period_hours, org.grace_period_ends()
        details: dict[str, object] = {}  # without a period the entry stays as it always was
        if hours:
            details["grace_period_hours"] = hours
            if ends is not None:
                details["grace_period_ends"] = ends.isoformat()
        period = f"a grace period of {hours} hours" if hours else "no grace period"
        if ends is not None and hours:
            period += f" (ends {ends:%Y-%m-%d %H:%M} UTC for existing users)"
        if enabled == was_on and grace_period_hours not in (None, was_hours):
            record(
                actor,
                "globally_enforce_2fa_grace_period",
                f"Set {period} for globally enforced 2FA (was {was_hours} hours)",
                previous_hours=was_hours,
                **details,
            )
        elif enabled:
            record(
                actor,
                "globally_enforce_2fa_enable",
                f"Enabled globally enforced 2FA with {period}",
                **details,
            )
        else:
            record(
                actor, "globally_enforce_2fa_disable", "Disabled globally enforced 2FA", **details
            )
    return org


def set_org_name(actor: Actor, name: str) -> OrgSetting:
    """The organisation's name, as the welcome mail and the set-password page say it."""
    name = " ".join(name.split())
    limit = OrgSetting._meta.get_field("org_name").max_length
    if not name:
        raise InvalidInput("The organisation needs a name.", field="org_name")
    if len(name) > limit:
        raise InvalidInput(f"At most {limit} characters.", field="org_name")
    with transaction.atomic():
        OrgSetting.load()  # the row exists before it is locked
        org = OrgSetting.objects.select_for_update().get(pk=1)
        if org.org_name != name:
            before, org.org_name = org.org_name, name
            org.save(update_fields=["org_name", "updated"])
            record(
                actor,
                "org_name_change",
                f"Renamed the organisation from {before} to {name}",
                before=before,
                after=name,
            )
    return org


def set_self_service_reset(actor: Actor, enabled: bool) -> OrgSetting:
    """Offer "Forgot password?" on the sign-in page, or tell people to ask an admin."""
    with transaction.atomic():
        OrgSetting.load()  # the row exists before it is locked
        org = OrgSetting.objects.select_for_update().get(pk=1)
        org.self_service_password_reset = enabled
        org.save(update_fields=["self_service_password_reset", "updated"])
        verb = "enable" if enabled else "disable"
        record(
            actor,
            f"self_service_password_reset_{verb}",
            f"{verb.capitalize()}d self-service password reset",
        )
    return org
