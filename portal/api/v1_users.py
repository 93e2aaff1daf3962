"""v1 API: users (addressed by e-mail)."""

from __future__ import annotations

from django.db.models import QuerySet
from rest_framework.request import Request

from flocks.selectors import users_with_details
from portal.json_replies import user_json
from portal.lib.errors import Forbidden, NotFound
from portal.lib.keyset import keyset_page
from users import services
from users.selectors import fragment_match

from .authentication import actor
from .endpoint import V1ViewSet, v1_action
from .key_auth import KeyCaller
from .key_policy import scoped_flock_id
from .openapi import ACCESS_LEVEL, EMAIL, FILTER, MSG, NOTE, PAGE_PARAMS, USER, USER_PAGE, V1Param
from .params import Params

USERS_PAGE_MAX = 1000
USER_AUTH = {
    key: USER["properties"][key]
    for key in ("email", "access_level", "managed_flocks", "watched_flocks")
}


def _user_page(p: Params, users) -> dict:
    page = keyset_page(
        users,
        limit=p.integer("limit", USERS_PAGE_MAX, minimum=1, maximum=USERS_PAGE_MAX),
        cursor=p.optional("cursor"),
        newest_first=False,
    )
    return {
        "users": [user_json(user) for user in page.items],
        "cursor": {"next": page.next, "prev": page.prev},
        "page_count": page.page_count,
        "page_number": page.page_number,
        "total": page.total,
    }


def _visible_users(request: Request) -> QuerySet:
    """Every user, or only the members of a flock key's flock."""
    flock_id = scoped_flock_id(request)
    users = users_with_details()
    return users if flock_id is None else users.filter(memberships__flock_id=flock_id)


def _user_details(request: Request, p: Params) -> dict:
    email = services.clean_email(p.required("email"))
    user = _visible_users(request).filter(email=email).first()
    if user is None:
        raise NotFound(f"User ({email}) does not exist.")
    return user_json(user)


class UsersViewSet(V1ViewSet):
    """Users, addressed by e-mail: add, edit, disable, remove, reset their factors, list and find
    them."""

    @v1_action(
        "POST",
        "user/add",
        params=[
            EMAIL,
            ACCESS_LEVEL,
            V1Param("note", "Note about the user."),
            V1Param("totp_enabled", "Require the user to enrol a second factor.", kind="boolean"),
            V1Param(
                "send_welcome_mail", "Mail a link to set a password (default true).", kind="boolean"
            ),
        ],
        success=MSG,
        errors=[409],
    )
    def user_add(self, request: Request, p: Params) -> dict:
        """Add a user by e-mail, optionally mailing a link to set a password."""
        email, access_level = p.required("email"), p.required("access_level")
        user = services.add_user(
            actor(request),
            email=email,
            access_level=access_level,
            note=p.optional("note"),
            require_2fa=p.boolean("totp_enabled", False),
            send_welcome_mail=p.boolean("send_welcome_mail", True),
        )
        return {"msg": f"User ({user.email}) successfully created."}

    @v1_action("POST", "user/note/add", params=[EMAIL, NOTE], success=MSG, errors=[404])
    def user_note_add(self, request: Request, p: Params) -> dict:
        """Set a user's note."""
        user = services.get_user_by_email(p.required("email"))
        services.set_note(actor(request), user, p.required("note"))
        return {"msg": f"User ({user.email}) note successfully added."}

    @v1_action("DELETE", "user/note/delete", params=[EMAIL], success=MSG, errors=[404])
    def user_note_delete(self, request: Request, p: Params) -> dict:
        """Remove a user's note."""
        user = services.get_user_by_email(p.required("email"))
        services.remove_note(actor(request), user)
        return {"msg": f"User ({user.email}) note successfully removed."}

    @v1_action(
        "POST", "user/edit", params=[EMAIL, V1Param("note", "New note.")], success=MSG, errors=[404]
    )
    def user_edit(self, request: Request, p: Params) -> dict:
        """Edit a user's note."""
        user = services.get_user_by_email(p.required("email"))
        note = p.get("note")
        if note is not None:
            services.set_note(actor(request), user, note, action_type="user_edit")
        return {"msg": f"User ({user.email}) successfully edited."}

    @v1_action("POST", "user/edit/access_level", params=[EMAIL, ACCESS_LEVEL], errors=[404, 409])
    def user_edit_access_level(self, request: Request, p: Params) -> dict:
        """Change a user's access level (admin or user)."""
        user = services.get_user_by_email(p.required("email"))
        services.set_access_level(actor(request), user, p.required("access_level"))
        return {}

    @v1_action("POST", "user/disable", params=[EMAIL], success=MSG, errors=[404, 409])
    def user_disable(self, request: Request, p: Params) -> dict:
        """Disable a user (they are signed out and cannot sign in)."""
        user = services.get_user_by_email(p.required("email"))
        services.set_active(actor(request), user, False)
        return {"msg": f"User ({user.email}) successfully disabled."}

    @v1_action("POST", "user/enable", params=[EMAIL], success=MSG, errors=[404])
    def user_enable(self, request: Request, p: Params) -> dict:
        """Enable a disabled user."""
        user = services.get_user_by_email(p.required("email"))
        services.set_active(actor(request), user, True)
        return {"msg": f"User ({user.email}) successfully enabled."}

    @v1_action("POST", "user/remove", params=[EMAIL], success=MSG, errors=[404, 409])
    def user_remove(self, request: Request, p: Params) -> dict:
        """Remove a user."""
        user = services.get_user_by_email(p.required("email"))
        email = user.email
        services.remove_user(actor(request), user)
        return {"msg": f"User ({email}) successfully removed."}

    @v1_action("POST", "user/2fa/disable", params=[EMAIL], success=MSG, errors=[404])
    def user_2fa_disable(self, request: Request, p: Params) -> dict:
        """Reset a user's authenticator app (TOTP)."""
        user = services.get_user_by_email(p.required("email"))
        services.disable_totp(actor(request), user)
        return {"msg": f"Successfully disabled two-factor authentication for user {user.email}"}

    @v1_action("POST", "user/webauthn/disable", params=[EMAIL], errors=[404])
    def user_webauthn_disable(self, request: Request, p: Params) -> dict:
        """Reset a user's security keys (WebAuthn)."""
        user = services.get_user_by_email(p.required("email"))
        services.disable_webauthn(actor(request), user)
        return {}

    @v1_action("POST", "user/password/reset", params=[EMAIL], success=MSG, errors=[404])
    def user_password_reset(self, request: Request, p: Params) -> dict:
        """Mail a user a link to set a new password."""
        user = services.get_user_by_email(p.required("email"))
        if isinstance(request.user, KeyCaller) and services.recently_admin(user):
            raise Forbidden(services.ANOTHER_ADMIN)  # a key is not a person: admins reset their own
        services.reset_password(actor(request), user)
        return {"msg": f"Password reset email sent to {user.email}"}

    @v1_action("POST", "user/summary_email/enable", params=[EMAIL], success=MSG, errors=[404])
    def user_summary_email_enable(self, request: Request, p: Params) -> dict:
        """Turn a user's summary e-mails on."""
        user = services.get_user_by_email(p.required("email"))
        services.set_summary_email(actor(request), user, True)
        return {"msg": f"Successfully enabled summary email for email {user.email}"}

    @v1_action("POST", "user/summary_email/disable", params=[EMAIL], success=MSG, errors=[404])
    def user_summary_email_disable(self, request: Request, p: Params) -> dict:
        """Turn a user's summary e-mails off."""
        user = services.get_user_by_email(p.required("email"))
        services.set_summary_email(actor(request), user, False)
        return {"msg": f"Successfully disabled summary email for email {user.email}"}

    @v1_action("GET", "users/list", params=PAGE_PARAMS, success=USER_PAGE)
    def users_list(self, request: Request, p: Params) -> dict:
        """List users, a page at a time."""
        return _user_page(p, _visible_users(request))

    @v1_action("GET", "users/filter", params=[FILTER, *PAGE_PARAMS], success=USER_PAGE)
    def users_filter(self, request: Request, p: Params) -> dict:
        """Find users whose e-mail or note contains a text."""
        term = p.required("filter_str")
        users = _visible_users(request).filter(fragment_match(term, "email", "note"))
        return _user_page(p, users)

    @v1_action("GET", "user/get", params=[EMAIL], success={"user": USER}, errors=[404])
    def user_get(self, request: Request, p: Params) -> dict:
        """Get one user by e-mail."""
        return {"user": _user_details(request, p)}

    @v1_action("GET", "user/auth", params=[EMAIL], success=USER_AUTH, errors=[404])
    def user_auth(self, request: Request, p: Params) -> dict:
        """Get a user's access level and flocks (what they may do)."""
        details = _user_details(request, p)
        return {
            key: details[key]
            for key in ("email", "access_level", "managed_flocks", "watched_flocks")
        }
