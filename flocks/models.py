"""Flocks group the console's devices; users manage or watch them."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

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
