"""What each audit action code means to a person reading the log.

The codes stay as they are in the API and the exports (scripts filter on them); the pages show
these labels. A code without a label (a new action) is shown with its words spelled out, so a
missing entry here is never an error.
"""

from __future__ import annotations

ACTION_LABELS: dict[str, str] = {
    "api_auth_failed": "API sign-in failed",
    "api_auth_throttled": "API sign-in paused",
    "api_credentials_refused": "API credential change refused",
    "api_key_add": "API key created",
    "api_key_remove": "API key removed",
    "flock_create": "Flock created",
    "flock_delete": "Flock deleted",
    "flock_managers_set": "Flock managers set",
    "flock_watchers_set": "Flock watchers set",
    "flock_note_add": "Flock note set",
    "flock_note_remove": "Flock note removed",
    "flock_rename": "Flock renamed",
    "globally_enforce_2fa_enable": "2FA required org-wide",
    "globally_enforce_2fa_disable": "2FA no longer required org-wide",
    "globally_enforce_2fa_grace_period": "2FA grace period changed",
    "enrol_reminder_mail": "Reminder to set up 2FA mailed",
    "org_name_change": "Organisation renamed",
    "self_service_password_reset_enable": "Self-service password reset switched on",
    "self_service_password_reset_disable": "Self-service password reset switched off",
    "user_password_reset_request": "Password reset asked for",
    "user_password_reset_request_refused": "Password reset asked for, nothing sent",
    "user_session_end": "Session signed out",
    "user_sessions_end": "Sessions signed out",
    "seed_demo": "Demo data added",
    "totp_keys_reencrypt": "Authenticator app secrets re-encrypted",
    "user_2fa_disable": "Authenticator app reset",
    "user_2fa_enable": "Authenticator app set up",
    "user_access_level_change": "Access level changed",
    "user_add": "User added",
    "user_api_token_create": "API token created",
    "user_api_token_revoke": "API token revoked",
    "user_assign_to_flock": "Added to flock",
    "user_credentials_change": "Password or API token changed",
    "user_disable": "User disabled",
    "user_edit": "Note set",
    "user_enable": "User enabled",
    "user_locked_out": "Sign-in locked",
    "user_lockout_lift": "Sign-in lock-out lifted",
    "user_login": "Signed in",
    "user_login_failed": "Sign-in failed",
    "user_logout": "Signed out",
    "user_mail_resend": "Mail sent again",
    "user_note_add": "Note set",
    "user_note_remove": "Note removed",
    "user_password_reset": "Password reset mail sent",
    "user_recovery_code_use": "Recovery code used",
    "user_recovery_codes_generate": "Recovery codes made",
    "user_remove": "User removed",
    "user_summary_email_enable": "Summary mail switched on",
    "user_summary_email_disable": "Summary mail switched off",
    "user_unassign_from_flock": "Removed from flock",
    "user_webauthn_add": "Security key added",
    "user_webauthn_disable": "Security keys reset",
    "user_webauthn_remove": "Security key removed",
    "user_webauthn_rename": "Security key renamed",
}

_WORDS = {"2fa": "2FA", "api": "API", "totp": "authenticator app", "webauthn": "security key"}


def action_label(code: str) -> str:
    """The label of ``code``, or its words (``user_foo_bar`` -> "User foo bar")."""
    if code in ACTION_LABELS:
        return ACTION_LABELS[code]
    words = " ".join(_WORDS.get(word, word) for word in code.split("_") if word)
    return words[:1].upper() + words[1:]
