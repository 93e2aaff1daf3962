"""URL map of the v2 API (the Nebula users contract; no trailing slashes)."""

from django.urls import path

from users.api import v2

urlpatterns = [
    path("status", v2.Status.as_view()),
    path("users", v2.UserList.as_view()),
    path("users/<str:user_name>", v2.UserDetail.as_view()),
    path("users/<str:user_name>/update", v2.UserUpdate.as_view()),
    path("users/<str:user_name>/refresh", v2.UserRefresh.as_view()),
]
