"""After a SECRET_KEY change: encrypt every TOTP secret again under the new key.

Run it with the old key still in SECRET_KEY_FALLBACKS (which keeps sign-in working meanwhile);
afterwards the old key can leave the fallbacks without anyone losing their authenticator app.
"""

import binascii

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from users.audit import Actor, record
from users.twofactor import cipher
from users.twofactor.totp_device import EncryptedTOTPDevice, seal_key, unseal_key

LABEL = "manage.py reencrypt_totp_keys"


class Command(BaseCommand):
    help = (
        "Encrypt every authenticator-app secret again under the current DJANGO_SECRET_KEY, reading "
        "old ones with any key in SECRET_KEY_FALLBACKS. Run after a key change, before dropping "
        "the old key."
    )

    def handle(self, *args, **options) -> None:
        counts = {"reencrypted": 0, "current": 0, "unreadable": 0}
        unreadable: list[str] = []
        with transaction.atomic():
            devices = (
                EncryptedTOTPDevice.objects.select_for_update(of=("self",))
                .select_related("user")
                .order_by("pk")
            )
            for device in devices:
                secret, current = self._read(device)
                if secret is None:
                    counts["unreadable"] += 1
                    unreadable.append(f"device {device.pk} of {device.user.label}")
                elif current:
                    counts["current"] += 1
                else:
                    EncryptedTOTPDevice.objects.filter(pk=device.pk).update(
                        key=seal_key(secret, device.user_id)
                    )
                    counts["reencrypted"] += 1
            record(
                Actor.system(LABEL),
                "totp_keys_reencrypt",
                f"Re-encrypted {counts['reencrypted']} authenticator-app secret(s) under the "
                "current secret key "
                f"({counts['current']} already were, "
                f"{counts['unreadable']} could not be decrypted)",
                **counts,
            )
        self.stdout.write(
            f"Re-encrypted {counts['reencrypted']} authenticator-app secret(s); "
            f"{counts['current']} were already "
            f"under the current key; {counts['unreadable']} could not be decrypted."
        )
        if unreadable:
            raise CommandError(
                "No configured secret key decrypts: "
                + ", ".join(unreadable)
                + ". Put the key they were encrypted with in SECRET_KEY_FALLBACKS and run again, "
                "or reset those users' authenticator apps (manage.py reset_2fa)."
            )

    @staticmethod
    def _read(device: EncryptedTOTPDevice) -> tuple[bytes | None, bool]:
        """(secret, already under the current key); a key still in clear counts as not yet
        encrypted."""
        if not cipher.is_sealed(device.key):
            try:
                return binascii.unhexlify(device.key), False
            except binascii.Error:
                return None, False
        try:
            return unseal_key(device.key, device.user_id)
        except cipher.Unreadable:
            return None, False
