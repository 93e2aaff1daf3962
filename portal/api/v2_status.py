"""v2 API: the health check the Nebula SDK's ``check_api()`` calls."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from .viewsets import ApiViewSet


class StatusViewSet(ApiViewSet):
    authentication_classes = []
    permission_classes = [AllowAny]

    @extend_schema(
        operation_id="v2_status",
        tags=["v2"],
        auth=[],
        responses={
            200: {
                "type": "object",
                "properties": {"api_available": {"type": "boolean", "enum": [True]}},
            }
        },
    )
    @action(detail=False, url_path="status", name="Status")
    def status(self, request: Request) -> Response:
        """Check that the API answers (the SDK's ``check_api()``).

        Open, and it ignores any credentials the client sends (the SDK sends its usual ones),
        so it never costs a credential check."""
        return Response({"api_available": True})
