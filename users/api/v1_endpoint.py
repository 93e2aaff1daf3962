"""The decorator every v1 endpoint is built with."""

from __future__ import annotations

import functools
from collections.abc import Callable

from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.response import Response

from .common import IsActiveAdmin, Params, V1TokenAuthentication

Handler = Callable[..., dict]


def v1_endpoint(*methods: str) -> Callable[[Handler], Callable]:
    """Wrap ``handler(request, params) -> dict`` as a token-authenticated, admin-only
    DRF view that answers ``{…, "result": "success"}``."""

    def wrap(handler: Handler) -> Callable:
        @api_view(list(methods))
        @authentication_classes([V1TokenAuthentication])
        @permission_classes([IsActiveAdmin])
        @functools.wraps(handler)
        def view(request, *args, **kwargs):
            body = handler(request, Params(request), *args, **kwargs)
            return Response({**body, "result": "success"})

        return view

    return wrap
