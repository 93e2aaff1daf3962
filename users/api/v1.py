"""v1 API: users, org settings and the audit trail (users addressed by e-mail)."""

from __future__ import annotations

from datetime import date

from django.db.models import Q

from flocks.selectors import users_with_details
from portal.json_replies import audit_json, user_json
from portal.lib.dates import parse_day
from portal.lib.errors import InvalidInput, NotFound
from portal.lib.keyset import keyset_page
from users import selectors, services

from .common import Params, actor
from .openapi import ACCESS_LEVEL, AUDIT_ENTRY, EMAIL, FILTER, MSG, NOTE, PAGE, PAGE_PARAMS, USER, USER_PAGE, V1Param
from .v1_endpoint import v1_endpoint

USERS_PAGE_MAX = 1000
USER_AUTH = {key: USER["properties"][key] for key in ("email", "access_level", "managed_flocks", "watched_flocks")}


@v1_endpoint("GET")
def ping(request, p: Params) -> dict:
    return {}


@v1_endpoint("POST")
def globally_enforce_2fa_enable(request, p: Params) -> dict:
    services.set_global_2fa(actor(request), True)
    return {}


@v1_endpoint("POST")
def globally_enforce_2fa_disable(request, p: Params) -> dict:
    services.set_global_2fa(actor(request), False)
    return {}


@v1_endpoint(
    "POST",
    params=[
        EMAIL,
        ACCESS_LEVEL,
        V1Param("note", "Note about the user."),
        V1Param("totp_enabled", "Require the user to enrol a second factor.", kind="boolean"),
        V1Param("send_welcome_mail", "Mail a link to set a password (default true).", kind="boolean"),
    ],
    success=MSG,
    errors=[409],
)
def user_add(request, p: Params) -> dict:
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


@v1_endpoint("POST", params=[EMAIL, NOTE], success=MSG, errors=[404])
def user_note_add(request, p: Params) -> dict:
    user = services.get_user_by_email(p.required("email"))
    services.set_note(actor(request), user, p.required("note"))
    return {"msg": f"User ({user.email}) note successfully added."}


@v1_endpoint("DELETE", params=[EMAIL], success=MSG, errors=[404])
def user_note_delete(request, p: Params) -> dict:
    user = services.get_user_by_email(p.required("email"))
    services.remove_note(actor(request), user)
    return {"msg": f"User ({user.email}) note successfully removed."}


@v1_endpoint("POST", params=[EMAIL, V1Param("note", "New note.")], success=MSG, errors=[404])
def user_edit(request, p: Params) -> dict:
    user = services.get_user_by_email(p.required("email"))
    note = p.get("note")
    if note is not None:
        services.set_note(actor(request), user, note, action_type="user_edit")
    return {"msg": f"User ({user.email}) successfully edited."}


@v1_endpoint("POST", params=[EMAIL, ACCESS_LEVEL], errors=[404, 409])
def user_edit_access_level(request, p: Params) -> dict:
    user = services.get_user_by_email(p.required("email"))
    services.set_access_level(actor(request), user, p.required("access_level"))
    return {}


@v1_endpoint("POST", params=[EMAIL], success=MSG, errors=[404, 409])
def user_disable(request, p: Params) -> dict:
    user = services.get_user_by_email(p.required("email"))
    services.set_active(actor(request), user, False)
    return {"msg": f"User ({user.email}) successfully disabled."}


@v1_endpoint("POST", params=[EMAIL], success=MSG, errors=[404])
def user_enable(request, p: Params) -> dict:
    user = services.get_user_by_email(p.required("email"))
    services.set_active(actor(request), user, True)
    return {"msg": f"User ({user.email}) successfully enabled."}


@v1_endpoint("POST", params=[EMAIL], success=MSG, errors=[404, 409])
def user_remove(request, p: Params) -> dict:
    user = services.get_user_by_email(p.required("email"))
    email = user.email
    services.remove_user(actor(request), user)
    return {"msg": f"User ({email}) successfully removed."}


@v1_endpoint("POST", params=[EMAIL], success=MSG, errors=[404])
def user_2fa_disable(request, p: Params) -> dict:
    user = services.get_user_by_email(p.required("email"))
    services.disable_totp(actor(request), user)
    return {"msg": f"Successfully disabled two-factor authentication for user {user.email}"}


@v1_endpoint("POST", params=[EMAIL], errors=[404])
def user_webauthn_disable(request, p: Params) -> dict:
    user = services.get_user_by_email(p.required("email"))
    services.disable_webauthn(actor(request), user)
    return {}


@v1_endpoint("POST", params=[EMAIL], success=MSG, errors=[404])
def user_password_reset(request, p: Params) -> dict:
    user = services.get_user_by_email(p.required("email"))
    services.reset_password(actor(request), user)
    return {"msg": f"Password reset email sent to {user.email}"}


@v1_endpoint("POST", params=[EMAIL], success=MSG, errors=[404])
def user_summary_email_enable(request, p: Params) -> dict:
    user = services.get_user_by_email(p.required("email"))
    services.set_summary_email(actor(request), user, True)
    return {"msg": f"Successfully enabled summary email for email {user.email}"}


@v1_endpoint("POST", params=[EMAIL], success=MSG, errors=[404])
def user_summary_email_disable(request, p: Params) -> dict:
    user = services.get_user_by_email(p.required("email"))
    services.set_summary_email(actor(request), user, False)
    return {"msg": f"Successfully disabled summary email for email {user.email}"}


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


@v1_endpoint("GET", params=PAGE_PARAMS, success=USER_PAGE)
def users_list(request, p: Params) -> dict:
    return _user_page(p, users_with_details())


@v1_endpoint("GET", params=[FILTER, *PAGE_PARAMS], success=USER_PAGE)
def users_filter(request, p: Params) -> dict:
    term = p.required("filter_str")
    users = users_with_details().filter(Q(email__icontains=term) | Q(note__icontains=term))
    return _user_page(p, users)


def _user_details(p: Params) -> dict:
    email = services.clean_email(p.required("email"))
    user = users_with_details().filter(email=email).first()
    if user is None:
        raise NotFound(f"User ({email}) does not exist.")
    return user_json(user)


@v1_endpoint("GET", params=[EMAIL], success={"user": USER}, errors=[404])
def user_get(request, p: Params) -> dict:
    return {"user": _user_details(p)}


@v1_endpoint("GET", params=[EMAIL], success=USER_AUTH, errors=[404])
def user_auth(request, p: Params) -> dict:
    details = _user_details(p)
    return {key: details[key] for key in ("email", "access_level", "managed_flocks", "watched_flocks")}


def _day(p: Params, name: str) -> date | None:
    value = p.optional(name)
    return parse_day(value, name) if value else None


@v1_endpoint(
    "GET",
    params=[
        V1Param("action_filter", "Only entries of this action type."),
        V1Param("search_term", "Text in the message, actor or target."),
        V1Param("start_date", "First day (yyyy-mm-dd, UTC)."),
        V1Param("end_date", "Last day (yyyy-mm-dd, UTC)."),
        V1Param("after_id", "Only entries with a larger id.", kind="integer", minimum=0),
        *PAGE_PARAMS,
    ],
    success={"audit_trail": {"type": "array", "items": AUDIT_ENTRY}, **PAGE},
)
def audit_trail_fetch(request, p: Params) -> dict:
    start, end = _day(p, "start_date"), _day(p, "end_date")
    if start and end and start > end:
        raise InvalidInput("start_date is after end_date", field="start_date")
    entries = selectors.audit_entries(
        action_type=p.optional("action_filter"),
        search=p.optional("search_term"),
        start=start,
        end=end,
        after_id=p.integer("after_id", 0) or None,
    )
    page = keyset_page(entries, limit=p.integer("limit", 100, minimum=1, maximum=1000), cursor=p.optional("cursor"))
    return {
        "audit_trail": [audit_json(entry) for entry in page.items],
        "cursor": {"next": page.next, "prev": page.prev},
        "page_count": page.page_count,
        "page_number": page.page_number,
    }
