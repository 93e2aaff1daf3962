"""Portal settings, read from the environment (django-environ).

Everything an operator changes comes from environment variables; the defaults
give a working development setup on SQLite with mail printed to the console.
"""

import secrets
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()


def _dev_secret_key() -> str:
    """A key generated once per checkout and kept in var/, so sessions survive restarts."""
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


# Django's debug pages show settings and the environment: only when asked for by name.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Production hardening (a required secret key, HTTPS redirect, secure cookies, HSTS, hashed
# static files) follows its own switch, so a trial install on loopback runs without DEBUG
# over plain http and shows the portal's own error pages.
PRODUCTION = env.bool("PORTAL_PRODUCTION", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if PRODUCTION:
        # Several app servers must share one key (sessions, tokens' keyed index): never invent one.
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when PORTAL_PRODUCTION=1.")
    SECRET_KEY = _dev_secret_key()
# Old keys still accepted during a rotation (sessions, signatures, encrypted TOTP secrets); see
# README.
SECRET_KEY_FALLBACKS = env.list("DJANGO_SECRET_KEY_FALLBACKS", default=[])
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # the Django admin, with the second-factor check (portal/admin_site.py)
    "portal.apps.PortalAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    # no django.contrib.sessions: sessions are users.session_store's own table
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "users",
    "flocks",
]

MIDDLEWARE = [
    # /healthz, /readyz: before the SSL redirect and host checks
    "portal.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "portal.middleware.RequestGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    # Django's, passing the browser and address to the store and noting when a session is used
    "users.session_store.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "users.twofactor.middleware.EnrolmentRequiredMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
CSRF_FAILURE_VIEW = "portal.errors.csrf_failure"
# Should DEBUG be turned on, its reports still mask every value that can carry a credential.
DEFAULT_EXCEPTION_REPORTER_FILTER = "portal.errors.CredentialMaskingFilter"
WSGI_APPLICATION = "portal.wsgi.application"
APPEND_SLASH = False

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "users.twofactor.context.webauthn_origin",
                "users.twofactor.context_processors.enrolment_banner",
            ],
        },
    },
]

# Database: SQLite file by default, anything dj-database-url understands otherwise.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}")
}
# Persistent connections, SQLite's too: opening one costs more than a cached-credential API call.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("DJANGO_CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL + busy timeout + IMMEDIATE transactions: concurrent writers queue instead of
    # failing with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
    DATABASES["default"].setdefault("TEST", {})["NAME"] = str(VAR_DIR / "test.sqlite3")
else:
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache (credential checks, throttling, sessions): Redis when configured, else local memory.
_cache_url = env.str("CACHE_URL", default="") or env.str("REDIS_URL", default="")
if _cache_url:
    # Redis is only a cache: a call that fails or takes longer than the timeout goes to the
    # fallback (process memory; nothing for sessions, which then come from the database)
    # and Redis is tried again after PORTAL_CACHE_RETRY_SECONDS (portal/cache.py).
    _redis = {
        "BACKEND": "portal.cache.PortalRedisCache",
        "LOCATION": _cache_url,
        "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="portal"),
        "OPTIONS": {
            "socket_connect_timeout": env.float("PORTAL_CACHE_TIMEOUT", default=0.3),
            "socket_timeout": env.float("PORTAL_CACHE_TIMEOUT", default=0.3),
            "RETRY_SECONDS": env.float("PORTAL_CACHE_RETRY_SECONDS", default=5),
        },
    }
    CACHES = {
        "default": _redis,
        "sessions": {**_redis, "OPTIONS": {**_redis["OPTIONS"], "FALLBACK": "none"}},
    }
else:
    # Without Redis sessions are read from the database: one process's memory would not see
    # another process end a session.
    CACHES = {
        "default": {"BACKEND": "portal.cache.PortalLocMemCache"},
        "sessions": {"BACKEND": "portal.cache.PortalNoCache"},
    }
# Django's cached_db on a table that knows each session's user, browser, address and times.
SESSION_ENGINE = "users.session_store"
SESSION_CACHE_ALIAS = "sessions"

AUTH_USER_MODEL = "users.User"
# Axes first: it refuses locked-out names and addresses before any password is checked.
AUTHENTICATION_BACKENDS = [
    "users.twofactor.backends.AxesLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "users.hashers.BCryptHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# bcrypt cost for passwords and API tokens; the v2 contract shows cost 12.
BCRYPT_ROUNDS = env.int("PORTAL_BCRYPT_ROUNDS", default=12)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "users.hashers.BcryptLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = env.int("DJANGO_SESSION_AGE", default=8 * 3600)
PASSWORD_RESET_TIMEOUT = 3 * 24 * 3600

# Failed sign-ins (page passwords, second-factor codes, API Basic passwords) count against
# three budgets (users/lockouts.py). django-axes locks the (account, address) pair for the
# cool-off; the account alone and the address alone get higher limits per window, past
# which tries answer 429 with Retry-After until the window ends.
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("PORTAL_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("PORTAL_LOGIN_LOCKOUT_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AUTH_ACCOUNT_FAILURE_LIMIT = env.int("PORTAL_ACCOUNT_FAILURE_LIMIT", default=50)
AUTH_ADDRESS_FAILURE_LIMIT = env.int("PORTAL_ADDRESS_FAILURE_LIMIT", default=30)
AUTH_FAILURE_WINDOW = env.int("PORTAL_AUTH_FAILURE_WINDOW", default=900)
# "Forgot password?" asks (users/reset_requests.py): per address for any name, and per account,
# in a window; past a limit an ask gets the same answer and sends nothing.
PASSWORD_RESET_ADDRESS_LIMIT = env.int("PORTAL_RESET_ADDRESS_LIMIT", default=10)
PASSWORD_RESET_ACCOUNT_LIMIT = env.int("PORTAL_RESET_ACCOUNT_LIMIT", default=3)
PASSWORD_RESET_WINDOW = env.int("PORTAL_RESET_WINDOW", default=3600)
# Passwordless challenges (users/twofactor/passkey_views.py) per address in a window; past the
# limit the sign-in page's passkey request answers 429 with Retry-After until the window ends.
PASSKEY_CHALLENGE_LIMIT = env.int("PORTAL_PASSKEY_CHALLENGE_LIMIT", default=120)
PASSKEY_CHALLENGE_WINDOW = env.int("PORTAL_PASSKEY_CHALLENGE_WINDOW", default=900)
AXES_RESET_ON_SUCCESS = True
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_LOCKOUT_CALLABLE = "users.twofactor.factor_step.locked_out"
AXES_DISABLE_ACCESS_LOG = True  # the audit log records sign-ins
# Masked in stored attempts.
AXES_SENSITIVE_PARAMETERS = [
    "username",
    "login",
    "ip_address",
    "password",
    "code",
    "token",
    "auth_token",
]
AXES_CLIENT_IP_CALLABLE = "portal.client_ip.client_ip"
# Which X-Forwarded-For entries to believe: a number of proxy hops in front of the app
# servers, or the proxies' networks ("10.0.0.0/8,127.0.0.1"). Empty: REMOTE_ADDR is the
# client (a client could forge the header).
PORTAL_TRUSTED_PROXIES = env.str("PORTAL_TRUSTED_PROXIES", default="")

# Second factors. TOTP codes: django-otp's replay check, one step of drift, growing delays
# after wrong codes. WebAuthn: the relying party the browser checks keys against.
OTP_TOTP_ISSUER = env.str("PORTAL_TOTP_ISSUER", default="Portal")
# django-otp's own device admins are not registered (users/admin.py); should one come
# back, it shows no key or QR code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
WEBAUTHN_RP_ID = env.str("WEBAUTHN_RP_ID", default="localhost")
WEBAUTHN_ORIGIN = env.str("WEBAUTHN_ORIGIN", default="http://localhost:8000")
WEBAUTHN_RP_NAME = env.str("WEBAUTHN_RP_NAME", default="Portal")
# Removing a factor, new recovery codes or a new password need a sign-in check this recent.
TWOFACTOR_REAUTH_SECONDS = env.int("PORTAL_REAUTH_SECONDS", default=300)
# How long the step between password and second factor may take.
TWOFACTOR_PENDING_SECONDS = 300

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / "staticfiles"
# Production serves hashed, compressed copies made by `collectstatic` (whitenoise);
# development and tests find the files where they are, no collectstatic needed.
_static_backend = (
    "whitenoise.storage.CompressedManifestStaticFilesStorage"
    if env.bool("DJANGO_STATIC_MANIFEST", default=PRODUCTION)
    else "django.contrib.staticfiles.storage.StaticFilesStorage"
)
# Outside production whitenoise serves the source folders directly (no collectstatic needed).
WHITENOISE_USE_FINDERS = WHITENOISE_AUTOREFRESH = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": _static_backend},
}

# HTTPS and browser protections. Defaults are strict in production; `check --deploy`
# reports no warnings with them. Behind a TLS-terminating proxy set
# DJANGO_SECURE_PROXY_SSL_HEADER=1 (the proxy must set X-Forwarded-Proto).
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=PRODUCTION)
if env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int(
    "DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 3600 if PRODUCTION else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=PRODUCTION)
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): our own files only, no inline script or style.
# The API docs page widens it for itself.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Mail: console in development; set EMAIL_URL (smtp://user:pass@host:587/?tls=True) for real mail.
_email = env.email_url("EMAIL_URL", default="consolemail://")
EMAIL_BACKEND = _email["EMAIL_BACKEND"]
for _key in (
    "EMAIL_HOST",
    "EMAIL_PORT",
    "EMAIL_HOST_USER",
    "EMAIL_HOST_PASSWORD",
    "EMAIL_USE_TLS",
    "EMAIL_USE_SSL",
):
    if _key in _email:
        globals()[_key] = _email[_key]
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="portal@localhost")
# Mails are queued with the change that asks for them and sent by `manage.py send_queued_mail`
# (users/mail.py): an SMTP call gives up after EMAIL_TIMEOUT seconds, a failed mail is tried
# again after 30 s, 60 s, 120 s … (at most an hour apart), and marked failed after the last attempt.
EMAIL_TIMEOUT = env.int("PORTAL_EMAIL_TIMEOUT", default=10)
PORTAL_MAIL_RETRY_SECONDS = env.float("PORTAL_MAIL_RETRY_SECONDS", default=30)
PORTAL_MAIL_RETRY_MAX_SECONDS = env.float("PORTAL_MAIL_RETRY_MAX_SECONDS", default=3600)
PORTAL_MAIL_MAX_ATTEMPTS = env.int("PORTAL_MAIL_MAX_ATTEMPTS", default=12)
# Users a mail job (mail everyone without a factor) turns into mails per worker pass.
PORTAL_MAIL_FANOUT_BATCH = env.int("PORTAL_MAIL_FANOUT_BATCH", default=1000)
# Base URL used in links inside mails (welcome and password reset); bin/serve derives it from
# PORTAL_ADDRESS. The default agrees with WEBAUTHN_ORIGIN's: the address people open.
PORTAL_BASE_URL = env.str("PORTAL_BASE_URL", default="http://localhost:8000").rstrip("/")

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "portal.api.parsers.StrictJSONParser",
        "portal.api.parsers.StrictFormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "UNAUTHENTICATED_USER": None,
    "EXCEPTION_HANDLER": "portal.api.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "portal.api.openapi.ActionSchema",
}

# OpenAPI schema of both APIs at /api/schema/, Swagger UI at /api/docs/ (files from
# drf-spectacular-sidecar, served locally: nothing from a CDN).
SPECTACULAR_SETTINGS = {
    "TITLE": "Portal API",
    "DESCRIPTION": (
        "v1: form-encoded, auth_token, users by e-mail; errors {result: error, message}. "
        "v2: JSON, HTTP Basic or Bearer, users by user name; errors {message} or {user_exists}."
    ),
    "VERSION": "1",
    "SCHEMA_PATH_PREFIX": r"/api/v[12]",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_AUTHENTICATION": [],
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
}

# Through the API an admin's credentials are changed only by that admin; a demoted admin
# counts as one for this long, so demote → set credentials → promote gets nowhere.
ADMIN_CREDENTIALS_COOLDOWN = timedelta(
    hours=env.int("PORTAL_ADMIN_CREDENTIALS_COOLDOWN_HOURS", default=24)
)
# How long a verified API credential is remembered (bound to the stored hash).
API_CREDENTIAL_CACHE_SECONDS = env.int("PORTAL_API_CREDENTIAL_CACHE_SECONDS", default=300)

# Largest request body the API accepts (413 beyond); Django's parser limit matches it.
API_MAX_BODY_BYTES = env.int("PORTAL_MAX_BODY_BYTES", default=1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = API_MAX_BODY_BYTES

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "portal.logs.RedactTokens"}},
    "formatters": {
        "server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
        # runserver's request lines ("GET /api/v1/ping?auth_token=… 200"), tokens masked.
        "server": {
            "class": "logging.StreamHandler",
            "filters": ["redact_tokens"],
            "formatter": "server",
        },
    },
    "loggers": {"django.server": {"handlers": ["server"], "level": "INFO", "propagate": False}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="WARNING")},
}
