"""The JSON descriptions of users and audit entries that the v1 API answers and the audit page
exports. A user's description names their flocks, so this sits above both apps' cores, with
the API."""

from __future__ import annotations

from datetime import UTC

from flocks.models import FlockRole
from flocks.selectors import flock_ids
from users.models import AuditEntry, User


def user_json(user: User) -> dict:
    """The v1 description of a user (needs ``flocks.selectors.users_with_details`` annotations)."""
    return {
        "id": user.pk,
        "email": user.email,
        "username": user.username,
        "access_level": user.access_level,
        "disabled": not user.is_active,
        "note": user.note,
        "totp_enabled": user.has_totp,
        "webauthn_enabled": user.has_webauthn,
        "require_2fa": user.must_enroll_2fa,
        "summary_email_enabled": user.summary_email_enabled,
        "managed_flocks": flock_ids(user, FlockRole.MANAGER),
        "watched_flocks": flock_ids(user, FlockRole.WATCHER),
        "created": user.date_joined.isoformat(),
    }


def audit_json(entry: AuditEntry) -> dict:
    return {
        "id": entry.id,
        "action_type": entry.action_type,
        "message": entry.message,
        "timestamp": entry.timestamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC+0000"),
        "user": entry.actor_label or None,
        "target": entry.target_label or None,
        "user_ip": entry.user_ip,
        "user_browser_agent": entry.user_agent,
        "flock_id": entry.flock_id or None,
        "additional_information": entry.additional_information or None,
    }
