"""How a v1 endpoint is declared: an action of a v1 viewset that states its path, method,
parameters, reply and errors once; its route and its OpenAPI description both come from that."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.formatting import camelcase_to_spaces

from .authentication import V1TokenAuthentication
from .key_policy import CallerMayAct
from .openapi import V1Param, v1_schema
from .params import Params
from .viewsets import ApiViewSet

Handler = Callable[..., dict]


class V1ViewSet(ApiViewSet):
    """Token-authenticated and admin-only. Each action answers the one method the contract
    gives it; any other (HEAD too) is a 405 naming the allowed ones."""

    authentication_classes = [V1TokenAuthentication]
    permission_classes = [CallerMayAct]
    http_method_names = ["get", "post", "delete", "options"]


def v1_action(
    method: str,
    path: str,
    *,
    params: Sequence[V1Param] = (),
    success: dict | None = None,
    errors: Sequence[int] = (),
    optional: Sequence[str] = (),
) -> Callable[[Handler], Callable]:
    """Make ``handler(self, request, params) -> dict`` the v1 viewset action that answers
    ``method`` at ``/api/v1/<path>`` with ``{…, "result": "success"}``.

    ``params`` (what the handler reads), ``success`` (the reply's properties besides
    "result", as JSON schemas) and ``errors`` (statuses beyond those every call may
    answer) describe the endpoint in the OpenAPI schema; ``optional`` names the success
    properties only some replies carry.
    """

    def wrap(handler: Handler) -> Callable:
        @functools.wraps(handler)
        def act(self: V1ViewSet, request: Request, *args, **kwargs) -> Response:
            body = handler(self, request, Params(request), *args, **kwargs)
            return Response({**body, "result": "success"})

        # OPTIONS names the action as DRF named the function view ("User Add").
        routed = action(
            detail=False,
            methods=[method],
            url_path=path,
            name=camelcase_to_spaces(handler.__name__),
        )(act)
        schema = v1_schema([method], params, success or {}, errors, optional)
        return extend_schema(operation_id=f"v1_{handler.__name__}", **schema)(routed)

    return wrap
