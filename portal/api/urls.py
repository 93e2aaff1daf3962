"""URL maps of both API versions (paths exactly as the contracts, no trailing slashes)."""

from django.urls import path

from . import v1_flocks as flocks
from . import v1_users as users
from . import v2_users as v2

v1_urlpatterns = [
    path("ping", users.ping),
    path("settings/usermanagement/globally_enforce_2fa/enable", users.globally_enforce_2fa_enable),
    path("settings/usermanagement/globally_enforce_2fa/disable", users.globally_enforce_2fa_disable),
    path("user/add", users.user_add),
    path("user/note/add", users.user_note_add),
    path("user/note/delete", users.user_note_delete),
    path("user/edit", users.user_edit),
    path("user/edit/access_level", users.user_edit_access_level),
    path("user/disable", users.user_disable),
    path("user/enable", users.user_enable),
    path("user/remove", users.user_remove),
    path("user/2fa/disable", users.user_2fa_disable),
    path("user/webauthn/disable", users.user_webauthn_disable),
    path("user/password/reset", users.user_password_reset),
    path("user/summary_email/enable", users.user_summary_email_enable),
    path("user/summary_email/disable", users.user_summary_email_disable),
    path("user/get", users.user_get),
    path("user/auth", users.user_auth),
    path("users/list", users.users_list),
    path("users/filter", users.users_filter),
    path("user/flock/assign", flocks.user_flock_assign),
    path("user/flock/unassign", flocks.user_flock_unassign),
    path("flock/create", flocks.flock_create),
    path("flock/rename", flocks.flock_rename),
    path("flock/delete", flocks.flock_delete),
    path("flocks/list", flocks.flocks_list),
    path("flocks/filter", flocks.flocks_filter),
    path("flock/users", flocks.flock_users),
    path("users/flock/assign/managers", flocks.flock_assign_managers),
    path("users/flock/assign/watchers", flocks.flock_assign_watchers),
    path("flock/note/add", flocks.flock_note_add),
    path("flock/note/delete", flocks.flock_note_delete),
    path("flock/note", flocks.flock_note),
    path("audit_trail/fetch", users.audit_trail_fetch),
]

v2_urlpatterns = [
    path("status", v2.Status.as_view()),
    path("users", v2.UserList.as_view()),
    path("users/<str:user_name>", v2.UserDetail.as_view()),
    path("users/<str:user_name>/update", v2.UserUpdate.as_view()),
    path("users/<str:user_name>/refresh", v2.UserRefresh.as_view()),
]
