"""What an API key may do: the one table, keyed by the endpoint's operation name
(``v1_<action>`` / ``v2_<action>``), and the permission every authenticated viewset uses.

A person must be an active admin, as before. A key needs the action in ``POLICY``: its role
must reach the action's, and a flock key passes only actions that say how they are confined
to one flock (``FLOCK_PARAM``: the ``flock_id`` named is the key's; ``FLOCK_LIST``: the
``flock_id_list`` is exactly the key's flock; ``SCOPED``: the handler shows only the key's
flock or its members, see ``scoped_flock_id``). An action missing from the table is refused
to every key, and ``tests/test_api_key_permissions.py`` fails for it."""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework.permissions import BasePermission

from flocks.models import KeyRole

from .key_auth import KeyCaller
from .params import Params, split_list

RANK = {KeyRole.READ_ONLY: 0, KeyRole.ANALYST: 1, KeyRole.ADMIN: 2}
ORG = "org"  # org-wide: refused to flock keys
FLOCK_PARAM = "flock_param"
FLOCK_LIST = "flock_list"
SCOPED = "scoped"
ANY = "any"  # nothing of a flock in it (ping)


@dataclass(frozen=True)
class Rule:
    role: str
    flock: str = ORG


READ, NOTES, ADMIN = KeyRole.READ_ONLY, KeyRole.ANALYST, KeyRole.ADMIN
POLICY: dict[str, Rule] = {
    # v1 reads
    "v1_ping": Rule(READ, ANY),
    "v1_users_list": Rule(READ, SCOPED),
    "v1_users_filter": Rule(READ, SCOPED),
    "v1_user_get": Rule(READ, SCOPED),
    "v1_user_auth": Rule(READ, SCOPED),
    "v1_flocks_list": Rule(READ, SCOPED),
    "v1_flocks_filter": Rule(READ, SCOPED),
    "v1_flock_users": Rule(READ, FLOCK_PARAM),
    "v1_flock_note": Rule(READ, FLOCK_PARAM),
    "v1_audit_trail_fetch": Rule(READ),
    # notes and summary mail: analyst
    "v1_user_note_add": Rule(NOTES),
    "v1_user_note_delete": Rule(NOTES),
    "v1_user_summary_email_enable": Rule(NOTES),
    "v1_user_summary_email_disable": Rule(NOTES),
    "v1_flock_note_add": Rule(NOTES, FLOCK_PARAM),
    "v1_flock_note_delete": Rule(NOTES, FLOCK_PARAM),
    # who has access: admin
    "v1_user_add": Rule(ADMIN),
    "v1_user_edit": Rule(ADMIN),
    "v1_user_edit_access_level": Rule(ADMIN),
    "v1_user_disable": Rule(ADMIN),
    "v1_user_enable": Rule(ADMIN),
    "v1_user_remove": Rule(ADMIN),
    "v1_user_2fa_disable": Rule(ADMIN),
    "v1_user_webauthn_disable": Rule(ADMIN),
    "v1_user_password_reset": Rule(ADMIN),  # never an admin's: see v1_users.user_password_reset
    "v1_user_flock_assign": Rule(ADMIN, FLOCK_LIST),
    "v1_user_flock_unassign": Rule(ADMIN, FLOCK_LIST),
    "v1_flock_create": Rule(ADMIN),
    "v1_flock_rename": Rule(ADMIN, FLOCK_PARAM),
    "v1_flock_delete": Rule(ADMIN),
    "v1_flock_assign_managers": Rule(ADMIN, FLOCK_PARAM),
    "v1_flock_assign_watchers": Rule(ADMIN, FLOCK_PARAM),
    "v1_globally_enforce_2fa_enable": Rule(ADMIN),
    "v1_globally_enforce_2fa_disable": Rule(ADMIN),
    "v1_auth_token_add": Rule(ADMIN),
    "v1_auth_token_list": Rule(ADMIN),
    "v1_auth_token_remove": Rule(ADMIN),
    "v1_flock_auth_token_add": Rule(ADMIN),
    "v1_flock_auth_token_list": Rule(ADMIN),
    "v1_flock_auth_token_remove": Rule(ADMIN),
    # v2: the names are a read; the user document carries hashes
    "v2_list": Rule(READ),
    "v2_retrieve": Rule(ADMIN),
    "v2_create": Rule(ADMIN),
    "v2_destroy": Rule(ADMIN),
    "v2_update_credentials": Rule(ADMIN),  # never an admin's: users.services.refuse_another_admin
    "v2_refresh": Rule(ADMIN),
}


def operation(view) -> str:
    """``v1_user_add``, ``v2_list`` …: the viewset's API version and its action."""
    return f"{view.basename.partition('-')[0]}_{view.action}"


def scoped_flock_id(request) -> str | None:
    """The one flock a request may see (a flock key's), or None for org-wide callers."""
    return request.user.flock_id if isinstance(request.user, KeyCaller) else None


class CallerMayAct(BasePermission):
    """An active admin person, or a key the table allows (403 naming the key's role)."""

    message = "Only an active admin may use this API."

    def has_permission(self, request, view) -> bool:
        caller = request.user
        if not isinstance(caller, KeyCaller):
            return caller is not None and caller.is_active and caller.is_admin
        if view.action is None:  # a method the path does not answer (405) or OPTIONS
            return True
        rule = POLICY.get(operation(view))
        scope = "flock " if caller.flock_id else ""
        self.message = f"This {caller.role_label} {scope}API key is not allowed to do this."
        if rule is None or RANK[caller.role] < RANK[rule.role]:
            return False
        if not caller.flock_id or rule.flock in (ANY, SCOPED):
            return True
        p = Params(request)
        if rule.flock == FLOCK_PARAM:
            return p.get("flock_id") == caller.flock_id
        if rule.flock == FLOCK_LIST:
            return split_list(p.optional("flock_id_list")) == [caller.flock_id]
        return False
