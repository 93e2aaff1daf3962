"""URLs of sign-in and the Security page."""

from django.urls import path

from users import session_views

from . import login_views, passkey_views, reauth_views, security_views

urlpatterns = [
    path("login/", login_views.login_view, name="login"),
    path("login/verify/", login_views.login_verify, name="login_verify"),
    path(
        "login/verify/key/options/",
        login_views.login_webauthn_options,
        name="login_webauthn_options",
    ),
    path("login/verify/key/", login_views.login_webauthn_verify, name="login_webauthn_verify"),
    path("login/passkey/options/", passkey_views.passkey_options, name="passkey_options"),
    path("login/passkey/", passkey_views.passkey_verify, name="passkey_verify"),
    path("logout/", login_views.logout_view, name="logout"),
    path("account/reauth/", reauth_views.reauth, name="reauth"),
    path(
        "account/reauth/key/options/",
        reauth_views.reauth_webauthn_options,
        name="reauth_webauthn_options",
    ),
    path("account/reauth/key/", reauth_views.reauth_webauthn_verify, name="reauth_webauthn_verify"),
    path("account/security/", security_views.security, name="security"),
    path("account/security/totp/", security_views.totp_setup, name="totp_setup"),
    path("account/security/totp/remove/", security_views.totp_remove, name="totp_remove"),
    path(
        "account/security/keys/options/",
        security_views.key_register_options,
        name="key_register_options",
    ),
    path("account/security/keys/", security_views.key_register, name="key_register"),
    path(
        "account/security/passkeys/options/",
        security_views.key_register_options,
        {"passkey": True},
        name="passkey_register_options",
    ),
    path(
        "account/security/passkeys/",
        security_views.key_register,
        {"passkey": True},
        name="passkey_register",
    ),
    path("account/security/keys/<id:pk>/rename/", security_views.key_rename, name="key_rename"),
    path("account/security/keys/<id:pk>/remove/", security_views.key_remove, name="key_remove"),
    path("account/security/recovery-codes/", security_views.recovery_codes, name="recovery_codes"),
    path(
        "account/security/recovery-codes/new/",
        security_views.recovery_regenerate,
        name="recovery_regenerate",
    ),
    path("account/security/password/", security_views.password_change, name="password_change"),
    path("account/security/sessions/end/", session_views.session_end, name="session_end"),
    path(
        "account/security/sessions/end-others/",
        session_views.sessions_end_others,
        name="sessions_end_others",
    ),
]
