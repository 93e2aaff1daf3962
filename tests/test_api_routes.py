"""The API's URL map: every v1 and v2 contract path, and nothing else, is served by an
action of a viewset on a router, so no endpoint bypasses what the viewsets guarantee
(authentication, the admin check, JSON errors, the OpenAPI description)."""

from __future__ import annotations

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from portal.api.endpoint import V1ViewSet
from portal.api.v2_users import UserViewSet
from portal.api.viewsets import ApiViewSet

V1_CONTRACT = {
    "ping": "GET",
    "settings/usermanagement/globally_enforce_2fa/enable": "POST",
    "settings/usermanagement/globally_enforce_2fa/disable": "POST",
    "user/add": "POST",
    "user/note/add": "POST",
    "user/note/delete": "DELETE",
    "user/edit": "POST",
    "user/edit/access_level": "POST",
    "user/disable": "POST",
    "user/enable": "POST",
    "user/remove": "POST",
    "user/2fa/disable": "POST",
    "user/webauthn/disable": "POST",
    "user/password/reset": "POST",
    "user/summary_email/enable": "POST",
    "user/summary_email/disable": "POST",
    "user/get": "GET",
    "user/auth": "GET",
    "users/list": "GET",
    "users/filter": "GET",
    "user/flock/assign": "POST",
    "user/flock/unassign": "POST",
    "flock/create": "POST",
    "flock/rename": "POST",
    "flock/delete": "POST",
    "flocks/list": "GET",
    "flocks/filter": "GET",
    "flock/users": "GET",
    "users/flock/assign/managers": "POST",
    "users/flock/assign/watchers": "POST",
    "flock/note/add": "POST",
    "flock/note/delete": "DELETE",
    "flock/note": "GET",
    "audit_trail/fetch": "GET",
    "auth_token/add": "POST",
    "auth_token/list": "GET",
    "auth_token/remove": "POST",
    "flock/auth_token/add": "POST",
    "flock/auth_token/list": "GET",
    "flock/auth_token/remove": "POST",
}
V2_CONTRACT = {
    "status": {"GET"},  # the SDK's check_api()
    "users": {"GET"},
    "users/{user_name}": {"GET", "POST", "DELETE"},
    "users/{user_name}/update": {"PUT"},
    "users/{user_name}/refresh": {"POST"},
}


def _served(prefix: str) -> dict[str, set[str]]:
    """{path: methods} of every route under ``prefix``, each checked to be a viewset action."""
    (api,) = [
        p
        for p in get_resolver().url_patterns
        if isinstance(p, URLResolver) and str(p.pattern) == prefix
    ]
    served = {}
    for route in api.url_patterns:
        assert isinstance(route, URLPattern), route
        view = route.callback
        assert issubclass(getattr(view, "cls", type(None)), ApiViewSet), (
            f"{route.pattern} is not a viewset action"
        )
        path = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(route.pattern))
        # DRF adds HEAD for GET when a view first answers; the contract names GET.
        served[path] = {method.upper() for method in view.actions if method != "head"}
        for action in view.actions.values():
            assert callable(getattr(view.cls, action)), (path, action)
    return served


def test_every_v1_contract_path_is_a_v1_viewset_action():
    assert _served("api/v1/") == {path: {method} for path, method in V1_CONTRACT.items()}
    (api,) = [p for p in get_resolver().url_patterns if str(getattr(p, "pattern", "")) == "api/v1/"]
    assert all(issubclass(route.callback.cls, V1ViewSet) for route in api.url_patterns)


def test_every_v2_contract_path_is_a_v2_viewset_action():
    assert _served("api/v2/") == V2_CONTRACT


@pytest.mark.parametrize(
    "user_name", ["ann", "ann.lee", "ann@example.com", "a.b.c+d-e_f", "x.json"]
)
def test_v2_user_names_with_dots_reach_the_users_viewset(user_name):
    for suffix, action in (
        ("", "retrieve"),
        ("/update", "update_credentials"),
        ("/refresh", "refresh"),
    ):
        match = resolve(f"/api/v2/users/{user_name}{suffix}")
        assert match.func.cls is UserViewSet and match.kwargs == {"user_name": user_name}
        assert action in match.func.actions.values()


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/ping/",
        "/api/v1/ping.json",
        "/api/v2/users/",
        "/api/v2/users/ann/",
        "/api/v2/users/a/b",
    ],
)
def test_other_paths_are_no_viewset_routes(path):
    assert not hasattr(resolve(path).func, "cls")  # the JSON 404 of every unknown API path
