"""Why a second-factor check was refused, in words a person can act on."""

from __future__ import annotations

import math
from datetime import datetime

from django.utils import timezone

from portal.lib.errors import InvalidInput


class FactorRefused(InvalidInput):
    """A code, key answer or enrolment step that did not pass."""


class TooManyAttempts(FactorRefused):
    """django-otp's growing delay after wrong codes has not passed yet."""

    def __init__(self, until: datetime) -> None:
        seconds = max(1, math.ceil((until - timezone.now()).total_seconds()))
        super().__init__(
            f"Too many wrong codes. Wait {seconds} seconds and try again.", field="code"
        )
