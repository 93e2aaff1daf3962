"""v1 API: ping, how a client checks its token."""

from __future__ import annotations

from rest_framework.request import Request

from .endpoint import V1ViewSet, v1_action
from .params import Params


class PingViewSet(V1ViewSet):
    """Success for an admin's token; any other gets what every endpoint answers it."""

    @v1_action("GET", "ping")
    def ping(self, request: Request, p: Params) -> dict:
        """Check that the API answers and the credentials are valid."""
        return {}
