"""Settings, all read from the environment (see README "Configuration")."""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent
VAR_DIR = Path(os.environ.get("RETAGUARDA_VAR_DIR", BASE_DIR.parent / "var"))

INSECURE_DEFAULT_SECRET_KEY = "insecure-development-key-change-me"


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


# "production" (the default) or "development". Production refuses to start with debug on, a
# missing or default secret key, or insecure cookies (see retaguarda/core/configcheck.py).
MODE = os.environ.get("RETAGUARDA_MODE", "production").strip().lower()
DEBUG = env_bool("RETAGUARDA_DEBUG", default=MODE == "development")
SECRET_KEY = os.environ.get("RETAGUARDA_SECRET_KEY") or INSECURE_DEFAULT_SECRET_KEY
ALLOWED_HOSTS = [h.strip() for h in os.environ.get("RETAGUARDA_ALLOWED_HOSTS", "*").split(",") if h.strip()]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("RETAGUARDA_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

# Cookies are secure unless running in debug mode (plain http on localhost), or explicitly
# turned off; `retaguarda check` and `serve` refuse insecure cookies in production mode.
SECURE_COOKIES = env_bool("RETAGUARDA_SECURE_COOKIES", default=not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
if env_bool("RETAGUARDA_BEHIND_TLS_PROXY"):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "js_lib_alpinejs",
    "django_tasks",
    "django_tasks_db",
    "ninja",
    "retaguarda.core",
    "retaguarda.parties",
    "retaguarda.catalog",
    "retaguarda.ledger",
    "retaguarda.inventory",
    "retaguarda.sales",
    "retaguarda.fulfilment",
    "retaguarda.billing",
    "retaguarda.collections",
    "retaguarda.einvoicing",
    "retaguarda.dunning",
    "retaguarda.web",
    "retaguarda.api",
    "retaguarda.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "retaguarda.web.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "retaguarda.api.middleware.IdempotencyMiddleware",
    "retaguarda.web.middleware.ActiveCompanyMiddleware",
    "retaguarda.web.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "retaguarda.urls"
WSGI_APPLICATION = "retaguarda.wsgi.application"
AUTH_USER_MODEL = "core.User"
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "retaguarda.web.context_processors.navigation",
            ],
        },
    },
]

# Databases: embedded SQLite under var/ by default, PostgreSQL through DATABASE_URL.
DEFAULT_SQLITE_PATH = VAR_DIR / "retaguarda.sqlite3"
DATABASE_URL = os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=int(os.environ.get("RETAGUARDA_CONN_MAX_AGE", "0")))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db.setdefault("OPTIONS", {}).update(
        {
            # BEGIN IMMEDIATE: writers queue on the database lock instead of failing mid-transaction.
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;",
        }
    )
    _db["TEST"] = {"NAME": os.environ.get("RETAGUARDA_SQLITE_TEST_NAME") or None}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "webhooks"],
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = os.environ.get("RETAGUARDA_LANGUAGE", "en")
LANGUAGES = [
    ("en", "English"),
    ("pt-br", "Português (Brasil)"),
    ("es", "Español"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = os.environ.get("RETAGUARDA_TIME_ZONE", "UTC")
USE_TZ = True

STATIC_URL = "static/"
# collectstatic target (optional: WhiteNoise serves installed packages' assets through the finders).
STATIC_ROOT = os.environ.get("RETAGUARDA_STATIC_ROOT") or None
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

EMAIL_BACKEND = os.environ.get("RETAGUARDA_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("RETAGUARDA_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("RETAGUARDA_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("RETAGUARDA_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("RETAGUARDA_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = env_bool("RETAGUARDA_EMAIL_TLS")
DEFAULT_FROM_EMAIL = os.environ.get("RETAGUARDA_EMAIL_FROM", "retaguarda@localhost")

# Login throttling: after this many failures per user name within the window, each further
# try waits; past the lock threshold the account is locked for the lock period.
LOGIN_THROTTLE_FREE_FAILURES = int(os.environ.get("RETAGUARDA_LOGIN_FREE_FAILURES", "3"))
LOGIN_THROTTLE_LOCK_FAILURES = int(os.environ.get("RETAGUARDA_LOGIN_LOCK_FAILURES", "10"))
LOGIN_THROTTLE_WINDOW_SECONDS = 15 * 60
LOGIN_THROTTLE_LOCK_SECONDS = 15 * 60

# Webhook delivery retries: attempt n waits base * 2**(n-1) seconds, up to max attempts.
WEBHOOK_TIMEOUT_SECONDS = 10
WEBHOOK_RETRY_BASE_SECONDS = int(os.environ.get("RETAGUARDA_WEBHOOK_RETRY_BASE", "30"))
WEBHOOK_MAX_ATTEMPTS = int(os.environ.get("RETAGUARDA_WEBHOOK_MAX_ATTEMPTS", "8"))

NINJA_PAGINATION_PER_PAGE = 50

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("RETAGUARDA_LOG_LEVEL", "WARNING")},
}

# Shown in the UI next to roles; kept here so translations are picked up.
PRODUCT_NAME = _("retaguarda")
