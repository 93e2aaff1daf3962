"""The people of the console: users, their second factors, org settings and the audit log."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import models
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.crypto import salted_hmac

from portal.lib.indexes import NullsFirstIndex

from .audit_labels import action_label


class AccessLevel(models.TextChoices):
    ADMIN = "admin", "Admin"
    USER = "user", "User"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(
        self, username: str, email: str | None = None, password: str | None = None, **extra
    ) -> User:
        email = self.normalize_email(email).lower() if email else None
        user = self.model(username=username, email=email, **extra)
        user.set_password(password)  # None gives an unusable password
        user.save(using=self._db)
        return user

    def create_superuser(
        self, username: str, email: str | None = None, password: str | None = None, **extra
    ) -> User:
        extra["access_level"] = AccessLevel.ADMIN
        extra.setdefault("is_active", True)
        return self.create_user(username, email, password, **extra)


class User(AbstractBaseUser):
    """A console user. ``access_level`` is the only permission: admins may do everything.

    ``is_active`` False means disabled. The API token is kept as a bcrypt hash plus
    an HMAC index (a keyed hash of the token) so a token finds its user in one
    indexed query without ever storing the token itself.
    """

    username = models.CharField(
        max_length=150, unique=True, validators=[UnicodeUsernameValidator()]
    )
    email = models.EmailField(unique=True, null=True, blank=True, help_text="Stored lower-case.")
    access_level = models.CharField(
        max_length=10, choices=AccessLevel.choices, default=AccessLevel.USER, db_index=True
    )
    note = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=True, db_index=True, help_text="False means disabled.")
    summary_email_enabled = models.BooleanField(default=True)
    must_enroll_2fa = models.BooleanField(
        default=False, help_text="Set when the user was added with “Require 2FA”."
    )
    api_token_hash = models.CharField(max_length=100, blank=True, default="")
    api_token_index = models.CharField(
        max_length=64, unique=True, null=True, blank=True, editable=False
    )
    api_token_created = models.DateTimeField(null=True, blank=True)
    api_token_last_used = models.DateTimeField(null=True, blank=True)
    date_joined = models.DateTimeField(default=timezone.now)
    updated = models.DateTimeField(auto_now=True)
    session_generation = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Raised to end every session: on disable, factor reset, new password.",
    )

    objects = UserManager()

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["email"]

    class Meta:
        ordering = ["username"]
        # The users page sorts by these; e-mail and user name have their unique indexes.
        # Searching (icontains) uses trigram indexes on PostgreSQL: migration 0002.
        # A new e-mail is checked against every user name in any case (``username__iexact``).
        indexes = [
            models.Index(fields=["date_joined", "id"], name="user_joined_idx"),
            models.Index(fields=["access_level", "username"], name="user_access_username_idx"),
            models.Index(Upper("username"), name="user_username_upper_idx"),
            # "Last signed in" and "last API use": never (NULL) first ascending, on both databases.
            NullsFirstIndex(fields=["last_login", "id"], name="user_last_login_idx"),
            NullsFirstIndex(fields=["api_token_last_used", "id"], name="user_api_used_idx"),
        ]

    def __str__(self) -> str:
        return self.email or self.username

    @property
    def is_invited(self) -> bool:
        """Added by an admin, and has never set a password nor signed in: the welcome mail's
        link is their way in (``users.mail.invitations``)."""
        return self.last_login is None and not self.has_usable_password()

    @property
    def is_admin(self) -> bool:
        return self.access_level == AccessLevel.ADMIN

    @property
    def is_staff(self) -> bool:
        """Active admins may use the Django admin site."""
        return self.is_active and self.is_admin

    @property
    def is_superuser(self) -> bool:
        return self.is_staff

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return self.is_staff

    def has_perms(self, perm_list, obj: object = None) -> bool:
        return self.is_staff

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_staff

    @property
    def label(self) -> str:
        """How the user is named in messages and the audit log."""
        return self.email or self.username

    def get_session_auth_hash(self) -> str:
        """Django's hash of the password, plus the session generation.

        Django compares the hash stored in a session with this one, computed from the
        row it loads on every request, so raising the generation ends every session at
        once (wherever the session data is kept) and for good: nothing lowers it again.
        """
        return self._session_hash(settings.SECRET_KEY)

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret)

    def _session_hash(self, secret: str) -> str:
        value = f"{self.password}:{self.session_generation}"
        return salted_hmac(
            "users.User.get_session_auth_hash", value, secret=secret, algorithm="sha256"
        ).hexdigest()


GRACE_PERIOD_MAX_HOURS = 8760  # a year


DEFAULT_ORG_NAME = "the portal"


class OrgSetting(models.Model):
    """The organisation's settings: a single row (pk=1).

    The grace period is stored as hours and the moment the switch went on, never as a
    deadline, so changing the period moves every user's deadline at once
    (``users.twofactor.policy.enrolment_deadline``).
    """

    # How mails and pages name the organisation ("Welcome to Acme SOC").
    org_name = models.CharField(max_length=100, default=DEFAULT_ORG_NAME)
    globally_enforce_2fa = models.BooleanField(default=False)
    # "Forgot password?" on the sign-in page mails a reset link; off, it says to ask an admin.
    self_service_password_reset = models.BooleanField(default=True)
    grace_period_hours = models.PositiveIntegerField(
        default=0,
        help_text="Hours a user without a second factor may still work once enforcement "
        "applies to them: from when it was switched on, or from their account's creation.",
    )
    enforced_since = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When globally enforced 2FA went on."
    )
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "organisation setting"

    def __str__(self) -> str:
        return "Organisation settings"

    def grace_period_ends(self) -> datetime | None:
        """When users who existed as enforcement went on must have a factor (later users get
        the period from their account's creation); None while it is off."""
        if not (self.globally_enforce_2fa and self.enforced_since):
            return None
        return self.enforced_since + timedelta(hours=self.grace_period_hours)

    @classmethod
    def load(cls) -> OrgSetting:
        obj, _ = cls.objects.get_or_create(pk=1)
        return obj


class WebAuthnCredential(models.Model):
    """A registered security key (py_webauthn)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="webauthn_credentials")
    name = models.CharField(max_length=100)
    credential_id = models.CharField(max_length=1024, unique=True, help_text="base64url")
    public_key = models.BinaryField()
    sign_count = models.PositiveBigIntegerField(default=0)
    transports = models.JSONField(default=list, blank=True)
    discoverable = models.BooleanField(
        default=False,
        help_text="A passkey: registered as a discoverable credential with user verification, so "
        "it signs in without a password (fixed at registration)",
    )
    created = models.DateTimeField(auto_now_add=True)
    last_used = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created"]
        verbose_name = "security key"

    def __str__(self) -> str:
        return f"{self.name} ({self.user})"

    @property
    def kind(self) -> str:
        """What the pages and the audit log call it."""
        return "passkey" if self.discoverable else "security key"


class AuditEntry(models.Model):
    """One management action. Names are copied in, so history survives removals; the actor's
    and target's ids say who exactly, since two users' labels may once have been alike."""

    timestamp = models.DateTimeField(default=timezone.now, db_index=True)
    action_type = models.CharField(max_length=64, db_index=True)
    message = models.TextField()
    actor = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    actor_label = models.CharField(max_length=254, blank=True, default="", db_index=True)
    target = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    target_label = models.CharField(max_length=254, blank=True, default="", db_index=True)
    flock_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    user_ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.TextField(blank=True, default="")
    additional_information = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        # A user's newest entries, by them and about them (``recent_audit_entries``).
        indexes = [
            models.Index(fields=["actor", "id"], name="audit_actor_id_idx"),
            models.Index(fields=["target", "id"], name="audit_target_id_idx"),
        ]
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"

    def __str__(self) -> str:
        return f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.action_type}: {self.message}"

    @property
    def action_label(self) -> str:
        """What the action means to a person (the code stays in the API and exports)."""
        return action_label(self.action_type)


from .nudges import PrintedPassword  # noqa: E402, F401  (the first admin's nudge, users/nudges.py)
from .outbox import MailJob, OutboxMail  # noqa: E402, F401  (the mail outbox, its own module)
from .session_store import UserSession  # noqa: E402, F401  (the sessions, with the engine)
