"""Who is acting, from where, and the audit entry each action writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest

from portal.client_ip import client_ip

from .models import AuditEntry, User


@dataclass(frozen=True)
class Actor:
    """The person (or command) behind an action, with the request's address and agent."""

    user: User | None = None
    ip: str | None = None
    user_agent: str = ""
    label: str = ""

    @classmethod
    def from_request(cls, request: HttpRequest, user: User | None = None) -> Actor:
        user = user if user is not None else getattr(request, "user", None)
        if user is not None and not getattr(user, "is_authenticated", False):
            user = None
        return cls(
            user=user,
            ip=client_ip(request) or None,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:1000],
            label=user.label if user else "",
        )

    @classmethod
    def system(cls, label: str = "system") -> Actor:
        return cls(label=label)


def record(
    actor: Actor,
    action_type: str,
    message: str,
    *,
    target: User | str | None = None,
    flock_id: str = "",
    **additional_information: Any,
) -> AuditEntry:
    """Write one audit entry; call it inside the action's transaction."""
    target_label = target.label if isinstance(target, User) else (target or "")
    return AuditEntry.objects.create(
        action_type=action_type,
        message=message,
        actor=actor.user,
        actor_label=actor.label or (actor.user.label if actor.user else ""),
        target=target if isinstance(target, User) else None,
        target_label=target_label,
        flock_id=flock_id,
        user_ip=actor.ip,
        user_agent=actor.user_agent,
        additional_information=additional_information,
    )
