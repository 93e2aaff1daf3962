"""v1 API: flocks and flock memberships."""

from __future__ import annotations

from django.db.models import Q, QuerySet
from rest_framework.request import Request

from flocks import services
from flocks.models import Flock, FlockRole
from portal.lib.errors import InvalidInput
from users import services as user_services

from .authentication import actor
from .endpoint import V1ViewSet, v1_action
from .key_policy import scoped_flock_id
from .openapi import EMAIL, FILTER, FLOCK_ID, FLOCK_ID_LIST, FLOCK_ROLE, MSG, NOTE, STRINGS, V1Param
from .params import Params, split_list

NAME = V1Param("name", "Name of the flock, unique in any letter case.", required=True)
EMAILS = V1Param(
    "emails",
    "E-mails of all the flock's members in this role (empty: none).",
    required=True,
    kind="list",
)
FLOCK_ID_REPLY = {"flock_id": {"type": "string"}}
FLOCK = {
    "type": "object",
    "properties": {
        "flock_id": {"type": "string"},
        "name": {"type": "string"},
        "note": {"type": "string"},
    },
    "required": ["flock_id", "name", "note"],
}


def _flocks_param(p: Params) -> list[Flock]:
    ids = split_list(p.required("flock_id_list"))
    if not ids:
        raise InvalidInput("Missing parameter: flock_id_list", field="flock_id_list")
    return services.get_flocks(ids)


def _visible_flocks(request: Request) -> QuerySet[Flock]:
    """Every flock, or only a flock key's own."""
    flock_id = scoped_flock_id(request)
    return Flock.objects.all() if flock_id is None else Flock.objects.filter(flock_id=flock_id)


def _set_members(request, p: Params, role: str) -> dict:
    flock = services.get_flock(p.required("flock_id"))
    emails = p.get("emails")
    if emails is None:
        raise InvalidInput("Missing parameter: emails", field="emails")
    users = services.users_by_email(split_list(emails), "emails")
    services.set_flock_members(actor(request), flock, role, users)
    return {}


class FlocksViewSet(V1ViewSet):
    """Flocks, their notes and their members (managers and watchers)."""

    @v1_action(
        "POST",
        "user/flock/assign",
        params=[EMAIL, FLOCK_ROLE, FLOCK_ID_LIST],
        success=MSG,
        errors=[404],
    )
    def user_flock_assign(self, request: Request, p: Params) -> dict:
        """Assign a user to flocks as manager or watcher."""
        user = user_services.get_user_by_email(p.required("email"))
        role = services.clean_role(p.required("flock_access_level"))
        flocks = _flocks_param(p)
        services.assign_user(actor(request), user, flocks, role)
        ids = [flock.flock_id for flock in flocks]
        return {"msg": f"User {user.email} successfully assigned to {role} flock(s) {ids}"}

    @v1_action(
        "POST",
        "user/flock/unassign",
        params=[EMAIL, FLOCK_ROLE, FLOCK_ID_LIST],
        success=MSG,
        errors=[404],
    )
    def user_flock_unassign(self, request: Request, p: Params) -> dict:
        """Remove a user from flocks."""
        user = user_services.get_user_by_email(p.required("email"))
        role = services.clean_role(p.required("flock_access_level"))
        flocks = _flocks_param(p)
        services.unassign_user(actor(request), user, flocks, role)
        ids = [flock.flock_id for flock in flocks]
        return {"msg": f"User {user.email} successfully unassigned from {role} flock(s) {ids}"}

    @v1_action(
        "POST",
        "flock/create",
        params=[
            NAME,
            V1Param("managers", "E-mails of the managers.", kind="list"),
            V1Param("watchers", "E-mails of the watchers.", kind="list"),
        ],
        success=FLOCK_ID_REPLY,
        errors=[404, 409],
    )
    def flock_create(self, request: Request, p: Params) -> dict:
        """Create a flock."""
        name = p.optional("name")
        managers = services.users_by_email(split_list(p.optional("managers")), "managers")
        watchers = services.users_by_email(split_list(p.optional("watchers")), "watchers")
        flock = services.create_flock(actor(request), name, managers=managers, watchers=watchers)
        return {"flock_id": flock.flock_id}

    @v1_action(
        "POST", "flock/rename", params=[FLOCK_ID, NAME], success=FLOCK_ID_REPLY, errors=[404, 409]
    )
    def flock_rename(self, request: Request, p: Params) -> dict:
        """Rename a flock."""
        flock = services.get_flock(p.required("flock_id"))
        services.rename_flock(actor(request), flock, p.optional("name"))
        return {"flock_id": flock.flock_id}

    @v1_action("POST", "flock/delete", params=[FLOCK_ID], errors=[404, 409])
    def flock_delete(self, request: Request, p: Params) -> dict:
        """Delete a flock (never the default flock)."""
        services.delete_flock(actor(request), services.get_flock(p.required("flock_id")))
        return {}

    @v1_action(
        "GET",
        "flocks/list",
        params=[V1Param("email", "Only the flocks of this user (all flocks for an admin).")],
        success={"flocks": {"type": "object", "additionalProperties": {"type": "string"}}},
        errors=[404],
    )
    def flocks_list(self, request: Request, p: Params) -> dict:
        """List flocks (id and name), or only those of one user."""
        flocks = _visible_flocks(request).order_by("name", "flock_id")
        email = p.get("email")
        if email:
            user = user_services.get_user_by_email(email)
            if not user.is_admin:
                flocks = flocks.filter(memberships__user=user)
        return {"flocks": dict(flocks.values_list("flock_id", "name"))}

    @v1_action(
        "GET",
        "flocks/filter",
        params=[FILTER],
        success={"flocks": {"type": "array", "items": FLOCK}},
    )
    def flocks_filter(self, request: Request, p: Params) -> dict:
        """Find flocks whose name, note or id contains a text."""
        term = p.required("filter_str")
        match = Q(name__icontains=term) | Q(note__icontains=term) | Q(flock_id__icontains=term)
        flocks = _visible_flocks(request).filter(match)
        return {"flocks": list(flocks.values("flock_id", "name", "note"))}

    @v1_action(
        "GET",
        "flock/users",
        params=[FLOCK_ID],
        success={"managers": STRINGS, "watchers": STRINGS},
        errors=[404],
    )
    def flock_users(self, request: Request, p: Params) -> dict:
        """List a flock's managers and watchers."""
        flock = services.get_flock(p.required("flock_id"))
        members = services.flock_members(flock)
        return {role: [user.label for user in users] for role, users in members.items()}

    @v1_action("POST", "users/flock/assign/managers", params=[FLOCK_ID, EMAILS], errors=[404])
    def flock_assign_managers(self, request: Request, p: Params) -> dict:
        """Make users managers of a flock."""
        return _set_members(request, p, FlockRole.MANAGER)

    @v1_action("POST", "users/flock/assign/watchers", params=[FLOCK_ID, EMAILS], errors=[404])
    def flock_assign_watchers(self, request: Request, p: Params) -> dict:
        """Make users watchers of a flock."""
        return _set_members(request, p, FlockRole.WATCHER)

    @v1_action("POST", "flock/note/add", params=[FLOCK_ID, NOTE], errors=[404])
    def flock_note_add(self, request: Request, p: Params) -> dict:
        """Set a flock's note."""
        flock = services.get_flock(p.required("flock_id"))
        services.set_flock_note(actor(request), flock, p.required("note"))
        return {}

    @v1_action("DELETE", "flock/note/delete", params=[FLOCK_ID], errors=[404])
    def flock_note_delete(self, request: Request, p: Params) -> dict:
        """Remove a flock's note."""
        services.remove_flock_note(actor(request), services.get_flock(p.required("flock_id")))
        return {}

    @v1_action(
        "GET", "flock/note", params=[FLOCK_ID], success={"note": {"type": "string"}}, errors=[404]
    )
    def flock_note(self, request: Request, p: Params) -> dict:
        """Read a flock's note."""
        return {"note": services.get_flock(p.required("flock_id")).note}
