"""TOTP secrets encrypted at rest: the proxy model that reads them, and the existing hex keys sealed.

Reversible: going back decrypts every key to hex (it stops if a key cannot be decrypted with
SECRET_KEY or SECRET_KEY_FALLBACKS, rather than leave a key the old code cannot read).
"""

from binascii import hexlify, unhexlify

from django.db import migrations

from users.twofactor import cipher
from users.twofactor.totp_device import seal_key, unseal_key


def encrypt_plain_keys(apps, schema_editor):
    """Seal every key still stored as hex (bound to the device's user)."""
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    for device in TOTPDevice.objects.only("pk", "user_id", "key").select_for_update().order_by("pk"):
        if not cipher.is_sealed(device.key):
            TOTPDevice.objects.filter(pk=device.pk).update(key=seal_key(unhexlify(device.key), device.user_id))


def decrypt_keys(apps, schema_editor):
    """Back to django-otp's hex keys."""
    TOTPDevice = apps.get_model("otp_totp", "TOTPDevice")
    for device in TOTPDevice.objects.only("pk", "user_id", "key").select_for_update().order_by("pk"):
        if cipher.is_sealed(device.key):
            try:
                secret, _ = unseal_key(device.key, device.user_id)
            except cipher.Unreadable as exc:
                raise RuntimeError(
                    f"TOTP device {device.pk} (user {device.user_id}): the key cannot be decrypted ({exc}); "
                    "restore the SECRET_KEY it was encrypted with (or put it in SECRET_KEY_FALLBACKS), "
                    "or reset that user's authenticator app, then migrate back again."
                ) from None
            TOTPDevice.objects.filter(pk=device.pk).update(key=hexlify(secret).decode())


class Migration(migrations.Migration):
    dependencies = [
        ("otp_totp", "0003_add_timestamps"),
        ("users", "0003_session_generation_audit_target"),
    ]

    operations = [
        migrations.CreateModel(
            name="EncryptedTOTPDevice",
            fields=[],
            options={
                "verbose_name": "TOTP device",
                "proxy": True,
                "default_permissions": (),
                "indexes": [],
                "constraints": [],
            },
            bases=("otp_totp.totpdevice",),
        ),
        migrations.RunPython(encrypt_plain_keys, decrypt_keys),
    ]
