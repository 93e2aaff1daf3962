"""v1 API: the console's API keys, org-wide (``auth_token/…``) and per flock
(``flock/auth_token/…``). The secret is in the reply to ``add`` only."""

from __future__ import annotations

from rest_framework.request import Request

from flocks import api_keys
from flocks import services as flock_services
from flocks.models import ApiKey, KeyRole
from portal.lib.errors import InvalidInput

from .authentication import actor
from .endpoint import V1ViewSet, v1_action
from .openapi import FLOCK_ID, NULLABLE_STRING, STRINGS, V1Param
from .params import Params

TIME_FORMAT = "%Y-%m-%d %H:%M:%S UTC+0000"
KEY_ROLES = tuple(KeyRole.values)
KEY_TYPE = V1Param("auth_token_type", "Role of the key (default admin).", enum=KEY_ROLES)
GLOBAL_KEY_TYPE = V1Param("auth_token_type", "Role of the key.", required=True, enum=KEY_ROLES)
NOTE = V1Param("note", "What the key is for.", required=True)
EXPIRES = V1Param("expires", "Day (yyyy-mm-dd) from whose 00:00 UTC the key stops working.")
MISSING_REMOVE = "Missing parameter: remove_key_id or remove_auth_token"
REMOVE = [
    V1Param("remove_key_id", "key_id of the key to remove (or remove_auth_token)."),
    V1Param("remove_auth_token", "The key itself (or remove_key_id)."),
]
KEY_PROPERTIES = {
    "auth_token_type": {"type": "string", "enum": [role.label for role in KeyRole]},
    "created": {"type": "string"},
    "created_by": {"type": "string"},
    "key_id": {"type": "string"},
    "note": {"type": "string"},
    "expires": NULLABLE_STRING,
}
LISTED = {"last_used": NULLABLE_STRING, "last_used_from": NULLABLE_STRING}
FLOCKS = {"managed_flocks": STRINGS, "watched_flocks": STRINGS}


def _object(properties: dict) -> dict:
    return {"type": "object", "properties": properties, "required": sorted(properties)}


NEW_KEY = _object({"auth_token": {"type": "string"}, **KEY_PROPERTIES})
NEW_FLOCK_KEY = _object({"auth_token": {"type": "string"}, **KEY_PROPERTIES, **FLOCKS})
KEY_LIST = {"type": "array", "items": _object({**KEY_PROPERTIES, **LISTED})}
FLOCK_KEY_LIST = {"type": "array", "items": _object({**KEY_PROPERTIES, **LISTED, **FLOCKS})}


def key_json(key: ApiKey, *, token: str | None = None) -> dict:
    """A key as v1 shows it: with its secret just after ``add``, else with its last use."""
    reply = {"auth_token": token} if token else {}
    reply |= {
        "auth_token_type": KeyRole(key.role).label,
        "created": key.created.strftime(TIME_FORMAT),
        "created_by": key.created_by_label,
        "key_id": key.key_id,
        "note": key.note,
        "expires": key.expires.isoformat() if key.expires else None,
    }
    if token is None:
        reply["last_used"] = key.last_used.strftime(TIME_FORMAT) if key.last_used else None
        reply["last_used_from"] = key.last_used_from
    if key.flock_id:
        managing = key.role == KeyRole.ADMIN
        reply["managed_flocks"] = [key.flock_id] if managing else []
        reply["watched_flocks"] = [] if managing else [key.flock_id]
    return reply


def _key_to_remove(p: Params, *, flock_keys: bool) -> ApiKey:
    key_id, token = p.optional("remove_key_id"), p.optional("remove_auth_token")
    if not key_id and not token:
        raise InvalidInput(MISSING_REMOVE, field="remove_key_id")
    return api_keys.find_key(key_id=key_id, token=token, flock_keys=flock_keys)


class ApiKeysViewSet(V1ViewSet):
    """The console's API keys: add (the secret shown once), list, remove."""

    @v1_action(
        "POST",
        "auth_token/add",
        params=[GLOBAL_KEY_TYPE, NOTE, EXPIRES],
        success={"global_api_key": NEW_KEY},
    )
    def auth_token_add(self, request: Request, p: Params) -> dict:
        """Create an org-wide API key (the key is shown once)."""
        key, token = api_keys.add_key(
            actor(request),
            role=p.required("auth_token_type"),
            note=p.optional("note"),
            expires=p.optional("expires"),
        )
        return {"global_api_key": key_json(key, token=token)}

    @v1_action("GET", "auth_token/list", success={"global_api_keys": KEY_LIST})
    def auth_token_list(self, request: Request, p: Params) -> dict:
        """List the org-wide API keys."""
        return {"global_api_keys": [key_json(key) for key in api_keys.keys_of()]}

    @v1_action("POST", "auth_token/remove", params=REMOVE, errors=[404])
    def auth_token_remove(self, request: Request, p: Params) -> dict:
        """Remove an org-wide API key."""
        api_keys.remove_key(actor(request), _key_to_remove(p, flock_keys=False))
        return {}

    @v1_action(
        "POST",
        "flock/auth_token/add",
        params=[FLOCK_ID, NOTE, KEY_TYPE, EXPIRES],
        success={"flock_api_key": NEW_FLOCK_KEY},
        errors=[404],
    )
    def flock_auth_token_add(self, request: Request, p: Params) -> dict:
        """Create an API key confined to one flock (the key is shown once)."""
        flock = flock_services.get_flock(p.required("flock_id"))
        key, token = api_keys.add_key(
            actor(request),
            role=p.optional("auth_token_type", KeyRole.ADMIN),
            note=p.optional("note"),
            expires=p.optional("expires"),
            flock=flock,
        )
        return {"flock_api_key": key_json(key, token=token)}

    @v1_action(
        "GET",
        "flock/auth_token/list",
        params=[FLOCK_ID],
        success={"flock_api_keys": FLOCK_KEY_LIST},
        errors=[404],
    )
    def flock_auth_token_list(self, request: Request, p: Params) -> dict:
        """List the API keys of one flock."""
        flock = flock_services.get_flock(p.required("flock_id"))
        return {"flock_api_keys": [key_json(key) for key in api_keys.keys_of(flock)]}

    @v1_action("POST", "flock/auth_token/remove", params=REMOVE, errors=[404])
    def flock_auth_token_remove(self, request: Request, p: Params) -> dict:
        """Remove a flock's API key."""
        api_keys.remove_key(actor(request), _key_to_remove(p, flock_keys=True))
        return {}
