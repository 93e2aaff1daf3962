"""TOTP devices whose secret is stored encrypted (``users.EncryptedTOTPDevice``).

django-otp's TOTPDevice keeps the secret as hex in ``key``; a database dump would give
away every authenticator seed. Here ``key`` holds the secret sealed by ``cipher`` under a
key derived from SECRET_KEY and bound to the device's user, so a value copied to another
user's device does not open. The table stays django-otp's: this proxy only reads the key
differently. Any save of a device with a clear key, through this proxy or django-otp's own
model, seals it first; the portal reads and verifies devices only through this proxy.

The users app loads this module with its models (``UsersConfig.import_models``).
"""

from __future__ import annotations

import logging
from binascii import unhexlify

from django.db.models.signals import pre_save
from django.dispatch import receiver
from django_otp.plugins.otp_totp.models import TOTPDevice

from . import cipher

PURPOSE = "totp-key"
KEY_MAX_LENGTH = TOTPDevice._meta.get_field("key").max_length

logger = logging.getLogger(__name__)


def _bound_to(user_id: int | None) -> bytes:
    return f"totp-device user={user_id}".encode()


def seal_key(secret: bytes, user_id: int | None) -> str:
    """The stored form of ``secret`` for a device of ``user_id`` (fits django-otp's 80-character
    column)."""
    sealed = cipher.seal(PURPOSE, secret, _bound_to(user_id))
    if len(sealed) > KEY_MAX_LENGTH:
        raise ValueError(
            f"A {len(secret)}-byte TOTP secret is too long to store encrypted (at most 32 bytes)."
        )
    return sealed


def unseal_key(stored: str, user_id: int | None) -> tuple[bytes, bool]:
    """(secret, sealed under the current SECRET_KEY); raises cipher.Unreadable."""
    return cipher.unseal(PURPOSE, stored, _bound_to(user_id))


class EncryptedTOTPDevice(TOTPDevice):
    """django-otp's TOTP device reading its secret from the sealed ``key``."""

    class Meta:
        proxy = True
        app_label = "users"
        verbose_name = "TOTP device"
        default_permissions = ()

    @property
    def bin_key(self) -> bytes:
        """The secret (raises cipher.Unreadable); django-otp's verify_token and
        config_url read it."""
        return unseal_key(self.key, self.user_id)[0]

    def has_readable_key(self) -> bool:
        try:
            self.bin_key  # noqa: B018
        except cipher.Unreadable:
            return False
        return True

    def verify_token(self, token: str) -> bool:
        """django-otp's check; a key no configured SECRET_KEY opens simply verifies nothing."""
        try:
            return super().verify_token(token)
        except cipher.Unreadable as exc:
            logger.warning(
                "TOTP device %s of user %s: the stored key cannot be decrypted (%s); codes are "
                "refused until the user's authenticator app is reset. Was SECRET_KEY changed "
                "without SECRET_KEY_FALLBACKS?",
                self.pk,
                self.user_id,
                exc,
            )
            return False


@receiver(pre_save, sender=TOTPDevice)
@receiver(pre_save, sender=EncryptedTOTPDevice)
def seal_clear_key(sender: type[TOTPDevice], instance: TOTPDevice, **kwargs) -> None:
    """A device is never written with its secret in clear, whichever model class saves it."""
    if not cipher.is_sealed(instance.key):
        instance.key = seal_key(unhexlify(instance.key), instance.user_id)
