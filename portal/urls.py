"""Top-level URL map: the APIs under /api/, the pages, the Django admin site."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView

from flocks import key_views
from portal import converters  # noqa: F401 - registers <id:…> and <flock_id:…> for every URL map
from portal.api import urls as api_urls
from portal.api.errors import json_error
from portal.api_docs import ApiDocsView
from users.password_reset import ResetLinkPasswordView, forgot_password, forgot_password_sent
from users.twofactor.decorators import enrolment_allowed


@csrf_exempt  # the APIs take no cookies: an unknown path is a 404 for every method
def api_not_found(request, rest: str = ""):
    return json_error(request, 404, "Not found.")


@enrolment_allowed
def favicon(request: HttpRequest) -> HttpResponsePermanentRedirect:
    """Browsers ask for /favicon.ico where a page names no icon (the Django admin's, Swagger's
    JSON, a downloaded export): the portal's own icon rather than a 404."""
    return HttpResponsePermanentRedirect(static("img/favicon.svg"))


urlpatterns = [
    path("favicon.ico", favicon),
    path("api/v1/", include(api_urls.v1.urls)),
    path("api/v2/", include(api_urls.v2.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="api-docs"),
    re_path(r"^api/(?P<rest>.*)$", api_not_found),
    path("django-admin/", admin.site.urls),
    path("flocks/", include("flocks.urls")),
    path("api-keys/", key_views.api_keys_page, name="api_keys"),
    path("api-keys/<str:key_id>/remove/", key_views.api_key_remove, name="api_key_remove"),
    path("", include("users.twofactor.urls")),
    path("", include("users.urls")),
    path("accounts/forgot/", forgot_password, name="password_forgot"),
    path("accounts/forgot/sent/", forgot_password_sent, name="password_forgot_sent"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        ResetLinkPasswordView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]

handler500 = "portal.errors.server_error"
