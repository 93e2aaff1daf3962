"""The viewset base of both API versions and the router that maps them to the contracts' URLs.

DRF's ``SimpleRouter`` does not fit the contracts as it comes: it has no POST on a detail
URL (v2 creates a user with ``POST /users/<user_name>``), it adds trailing slashes, and its
regex lookup ``[^/.]+`` would answer 404 for every user name with a dot. ``ContractRouter``
has its own routes and builds ``path()`` patterns (``users/<str:user_name>``, the ``str``
converter being ``[^/]+``), exactly the URL map the function views had.
"""

from __future__ import annotations

from rest_framework.routers import DynamicRoute, Route, SimpleRouter
from rest_framework.viewsets import ViewSet


class ContractRouter(SimpleRouter):
    """Routes: ``list`` on the prefix, ``retrieve`` / ``create`` / ``destroy`` on the detail
    URL, and every ``@action`` at its ``url_path`` under either; no trailing slashes.

    A viewset registered with the empty prefix serves its actions at exactly their
    ``url_path`` (v1: ``user/add``, ``flocks/list`` …)."""

    routes = [
        Route(
            url="{prefix}",
            mapping={"get": "list"},
            name="{basename}-list",
            detail=False,
            initkwargs={"suffix": "List"},
        ),
        DynamicRoute(
            url="{prefix}/{url_path}", name="{basename}-{url_name}", detail=False, initkwargs={}
        ),
        Route(
            url="{prefix}/{lookup}",
            mapping={"get": "retrieve", "post": "create", "delete": "destroy"},
            name="{basename}-detail",
            detail=True,
            initkwargs={"suffix": "Detail"},
        ),
        DynamicRoute(
            url="{prefix}/{lookup}/{url_path}",
            name="{basename}-{url_name}",
            detail=True,
            initkwargs={},
        ),
    ]

    def __init__(self) -> None:
        super().__init__(trailing_slash=False, use_regex_path=False)


class ApiViewSet(ViewSet):
    """Base of every API viewset.

    ``lookup_value_converter`` is the path converter of a detail URL: ``str`` matches
    ``[^/]+``, so a user name with a dot is found (DRF's regex default ``[^/.]+`` is not).
    """

    lookup_value_converter = "str"

    def get_view_description(self, html: bool = False) -> str:
        """OPTIONS describes an action by its own docstring (none: empty), never by the
        viewset's, as the function views did."""
        if self.description is None:
            return ""
        return super().get_view_description(html)
