"""Helpers for second-factor tests: real TOTP codes and a real software authenticator."""

from __future__ import annotations

import json
import time
from base64 import urlsafe_b64encode

from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from soft_webauthn import SoftWebauthnDevice
from webauthn.helpers import base64url_to_bytes

from users.twofactor.totp_device import EncryptedTOTPDevice

ORIGIN = "http://localhost:8123"


def app_secret(device: TOTPDevice) -> bytes:
    """The secret the user's app holds, decrypted the way the portal does (the stored key is sealed)."""
    return EncryptedTOTPDevice.objects.get(pk=device.pk).bin_key


def totp_code(device: TOTPDevice, steps_ahead: int = 0) -> str:
    """The code the user's app would show now (or ``steps_ahead`` steps later)."""
    totp = TOTP(app_secret(device), device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() + steps_ahead * device.step
    return f"{totp.token():0{device.digits}d}"


def fresh_totp_code(device: TOTPDevice) -> str:
    """A code django-otp has not seen yet: the next step when this one was already used."""
    device.refresh_from_db()
    totp = TOTP(app_secret(device), device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    ahead = 1 if totp.t() <= device.last_t else 0
    return totp_code(device, ahead)


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).decode().rstrip("=")


def _public_key_options(options_json: bytes | str) -> dict:
    """Server options (JSON, base64url) as soft-webauthn wants them (bytes)."""
    options = json.loads(options_json)
    options["challenge"] = base64url_to_bytes(options["challenge"])
    if "user" in options:
        options["user"]["id"] = base64url_to_bytes(options["user"]["id"])
    return {"publicKey": options}


def attestation(device: SoftWebauthnDevice, options_json: bytes | str, origin: str = ORIGIN) -> dict:
    """A real registration response, JSON-ready, the way a browser would post it."""
    result = device.create(_public_key_options(options_json), origin)
    return {
        "id": b64url(result["rawId"]),
        "rawId": b64url(result["rawId"]),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url(result["response"]["clientDataJSON"]),
            "attestationObject": b64url(result["response"]["attestationObject"]),
            "transports": ["usb"],
        },
    }


def assertion(device: SoftWebauthnDevice, options_json: bytes | str, origin: str = ORIGIN) -> dict:
    """A real authentication response, JSON-ready."""
    result = device.get(_public_key_options(options_json), origin)
    response = result["response"]
    return {
        "id": b64url(result["rawId"]),
        "rawId": b64url(result["rawId"]),
        "type": "public-key",
        "response": {
            "clientDataJSON": b64url(response["clientDataJSON"]),
            "authenticatorData": b64url(response["authenticatorData"]),
            "signature": b64url(response["signature"]),
            "userHandle": b64url(response["userHandle"]),
        },
    }


def post_json(client: Client, url: str, body: dict | None = None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")
