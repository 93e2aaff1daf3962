"""Error pages: JSON under /api/ (clients parse every reply), HTML elsewhere."""

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from users.api.common import json_error


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return json_error(request, 500, "Internal server error.")
    return defaults.server_error(request)
