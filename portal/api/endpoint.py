"""The decorator every v1 endpoint is built with."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.response import Response

from .authentication import IsActiveAdmin, V1TokenAuthentication
from .openapi import V1Param, v1_schema
from .params import Params

Handler = Callable[..., dict]


def v1_endpoint(
    *methods: str, params: Sequence[V1Param] = (), success: dict | None = None, errors: Sequence[int] = ()
) -> Callable[[Handler], Callable]:
    """Wrap ``handler(request, params) -> dict`` as a token-authenticated, admin-only
    DRF view that answers ``{…, "result": "success"}``.

    ``params`` (what the handler reads), ``success`` (the reply's properties besides
    "result", as JSON schemas) and ``errors`` (statuses beyond those every call may
    answer) describe the endpoint in the OpenAPI schema.
    """

    def wrap(handler: Handler) -> Callable:
        @extend_schema(operation_id=f"v1_{handler.__name__}", **v1_schema(methods, params, success or {}, errors))
        @api_view(list(methods))
        @authentication_classes([V1TokenAuthentication])
        @permission_classes([IsActiveAdmin])
        @functools.wraps(handler)
        def view(request, *args, **kwargs):
            body = handler(request, Params(request), *args, **kwargs)
            return Response({**body, "result": "success"})

        return view

    return wrap
