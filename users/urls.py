"""URLs of the user, audit and org-settings pages."""

from django.urls import path, re_path

from . import audit_views, mail_views, org_views, session_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "nudges/first-admin/dismiss/",
        views.first_admin_nudge_dismiss,
        name="first_admin_nudge_dismiss",
    ),
    path("users/", views.user_list, name="user_list"),
    path("users/add/", views.user_add, name="user_add"),
    path("users/<id:pk>/", views.user_detail, name="user_detail"),
    path("users/<id:pk>/note/", views.user_note, name="user_note"),
    path("users/<id:pk>/access-level/", views.user_access_level, name="user_access_level"),
    path("users/<id:pk>/active/", views.user_active, name="user_active"),
    path("users/<id:pk>/disable/", views.user_disable, name="user_disable"),
    path("users/<id:pk>/summary-email/", views.user_summary_email, name="user_summary_email"),
    path("users/<id:pk>/reset-password/", views.user_reset_password, name="user_reset_password"),
    path("users/<id:pk>/reset-totp/", views.user_reset_totp, name="user_reset_totp"),
    path("users/<id:pk>/reset-webauthn/", views.user_reset_webauthn, name="user_reset_webauthn"),
    path("users/<int:pk>/lift-lockout/", views.user_lift_lockout, name="user_lift_lockout"),
    path("users/<id:pk>/flocks/assign/", views.user_flocks_assign, name="user_flocks_assign"),
    path("users/<id:pk>/flocks/unassign/", views.user_flocks_unassign, name="user_flocks_unassign"),
    path("users/<id:pk>/remove/", views.user_remove, name="user_remove"),
    path(
        "users/<id:pk>/mails/send-again/",
        mail_views.user_mail_send_again,
        name="user_mail_send_again",
    ),
    path("users/<id:pk>/sessions/end/", session_views.user_session_end, name="user_session_end"),
    path("users/<id:pk>/token/", views.token_create, name="token_create"),
    path("users/<id:pk>/token/revoke/", views.token_revoke, name="token_revoke"),
    path("audit/", audit_views.audit_log, name="audit_log"),
    re_path(
        r"^audit/download\.(?P<fmt>csv|json)$", audit_views.audit_download, name="audit_download"
    ),
    path("org/", org_views.org_settings, name="org_settings"),
    path("org/name/", org_views.org_name, name="org_name"),
    path("org/password-reset/", org_views.org_password_reset, name="org_password_reset"),
    path("org/remind/", org_views.org_remind, name="org_remind"),
]
