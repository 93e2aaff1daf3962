"""Flocks group the console's devices; users manage or watch them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

DEFAULT_FLOCK_ID = "flock:default"
NAME_MAX_LENGTH = 100


def new_flock_id() -> str:
    return f"flock:{uuid.uuid4().hex}"


class Flock(models.Model):
    flock_id = models.CharField(
        max_length=64, primary_key=True, default=new_flock_id, editable=False
    )
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    note = models.TextField(blank=True, default="")
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "flock_id"]
        # v1 flocks/list (every flock, in this order) and the flocks page read it in order.
        indexes = [models.Index(fields=["name", "flock_id"], name="flock_name_id_idx")]
        # Two flocks that differ only in letter case read as one in every list and picker.
        constraints = [
            models.UniqueConstraint(
                Lower("name"),
                name="flock_name_unique_ignoring_case",
                violation_error_message="A flock with this name already exists.",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_default(self) -> bool:
        return self.flock_id == DEFAULT_FLOCK_ID


class FlockRole(models.TextChoices):
    MANAGER = "manager", "Manager"
    WATCHER = "watcher", "Watcher"


class FlockMembership(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    flock = models.ForeignKey(Flock, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=FlockRole.choices)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "flock"], name="one_membership_per_user_and_flock"
            )
        ]
        indexes = [models.Index(fields=["flock", "role"])]

    def __str__(self) -> str:
        return f"{self.user} {self.role} of {self.flock_id}"


class KeyRole(models.TextChoices):
    READ_ONLY = "read-only", "Read-Only"
    ANALYST = "analyst", "Analyst"
    ADMIN = "admin", "Admin"


class ApiKey(models.Model):
    """A console API key: not a person, a role (``KeyRole``) and, for a flock key, one flock.

    It lives in the flocks core because a key may be confined to a flock (and goes with it);
    org-wide keys have no flock. Like a personal token, only a bcrypt hash and a keyed index
    of the secret are stored."""

    key_id = models.CharField(max_length=8, unique=True)
    role = models.CharField(max_length=10, choices=KeyRole.choices)
    note = models.CharField(max_length=200)
    flock = models.ForeignKey(
        Flock, on_delete=models.CASCADE, null=True, blank=True, related_name="api_keys"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by_label = models.CharField(max_length=300)
    created = models.DateTimeField(auto_now_add=True)
    expires = models.DateField(
        null=True, blank=True, help_text="Stops working at 00:00 UTC that day."
    )
    last_used = models.DateTimeField(null=True, blank=True)
    last_used_from = models.GenericIPAddressField(null=True, blank=True)
    token_hash = models.CharField(max_length=100)
    token_index = models.CharField(max_length=64, unique=True, editable=False)

    class Meta:
        ordering = ["created", "key_id"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """How the audit log names what the key did."""
        return f"API key {self.key_id} ({self.note})"
