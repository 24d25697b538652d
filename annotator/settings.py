"""Settings, read from the environment only (see .env.example); reading them starts nothing.

Production fails closed: DEBUG is off, there is no default secret, and only
loopback hosts are allowed unless ALLOWED_HOSTS says otherwise. A local
install keeps its state under .data/ (annotator/paths.py): the embedded
PostgreSQL server, which manage.py starts before the settings are read, and a
secret key that `make run` generates once.
"""

import json
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from annotator.paths import BASE_DIR, DATA_DIR


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be 1/0, true/false, yes/no or on/off, not {value!r}.")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None


def local_secret_key() -> str:
    """The key `make run` wrote under .data/; no key at all is an error."""
    key_file = DATA_DIR / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    raise ImproperlyConfigured(
        "SECRET_KEY is not set. Set it in the environment (see .env.example), "
        f"or run `make run` once to create a local key in {key_file}."
    )


DEBUG = env_bool("DEBUG")
# Demo mode allows the demo accounts, whose passwords are public.
DEMO_MODE = env_bool("ANNOTATOR_DEMO")
SECRET_KEY = os.environ.get("SECRET_KEY") or local_secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    # Before django_tasks_db: our db_worker command replaces its own (annotator/management/commands/db_worker.py).
    "annotator",
    "django_tasks_db",
    "pgtrigger",
    "pghistory",
    "axes",
    "issues",
    "studies",
    "agreement",
    "llm",
    "surveys",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "annotator.middleware.RefuseNulMiddleware",  # after the login check: it answers first
    "pghistory.middleware.HistoryMiddleware",  # who and which URL, attached to every change the request makes
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "annotator.htmx.VaryOnHtmxMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes requires: it answers locked-out logins
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses a locked-out username before checking the password
    "django.contrib.auth.backends.ModelBackend",
]
# Password guessing (annotator/lockout.py): five wrong passwords for a username from one address lock that username
# there for 15 minutes; thirty from one address, whatever the usernames, lock the address. A success clears the
# username's count from that address. Wrong current passwords on the password change form count as failed logins.
AXES_HANDLER = "annotator.lockout.LockoutHandler"
AXES_FAILURE_LIMIT = 5
LOGIN_FAILURE_LIMIT_PER_ADDRESS = 30
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]  # the order LockoutHandler reads them in
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# How many reverse proxies stand in front of the app (0: none, the client connects directly). Only then are the
# client's address (X-Forwarded-For) and scheme (X-Forwarded-Proto) taken from their headers.
ANNOTATOR_TRUSTED_PROXIES = env_int("ANNOTATOR_TRUSTED_PROXIES", 0)
if ANNOTATOR_TRUSTED_PROXIES < 0:
    raise ImproperlyConfigured(f"ANNOTATOR_TRUSTED_PROXIES must be 0 or more, not {ANNOTATOR_TRUSTED_PROXIES}.")
AXES_CLIENT_IP_CALLABLE = "annotator.lockout.client_ip"
AXES_VERBOSE = False  # no banner on every command

ROOT_URLCONF = "annotator.urls"
WSGI_APPLICATION = "annotator.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "annotator.context_processors.navigation",
            ],
        },
    },
]

# Database: any PostgreSQL through DATABASE_URL. Where it is unset, manage.py, annotator/wsgi.py and the
# test run start the embedded server first and set it (annotator/embedded_postgres.py).
if not os.environ.get("DATABASE_URL"):
    raise ImproperlyConfigured(
        "DATABASE_URL is not set. Run annotator through `make run` or `.venv/bin/python manage.py …`, "
        "which start the embedded PostgreSQL, or set DATABASE_URL to a PostgreSQL database "
        "(see .env.example)."
    )
DATABASES = {"default": dj_database_url.parse(os.environ["DATABASE_URL"], conn_max_age=60, conn_health_checks=True)}
# A database host that drops packets instead of refusing: a 503 after 10 s, not a request hung for minutes.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 10)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# The task worker's lower CPU priority (added to its niceness, as `nice -n`): imports, rendering and the search
# index yield the cores to the web server, whose pages stay responsive while they run. 0 leaves it as started.
TASK_WORKER_NICENESS = env_int("ANNOTATOR_WORKER_NICENESS", 10)

# Model raters (llm/client.py): the first wait before retrying a request that failed (doubled each time).
LLM_RETRY_BACKOFF_SECONDS = 1.0

# History (studies/history.py): the event tables refuse updates and deletes.
PGHISTORY_APPEND_ONLY = True

# Dump files uploaded on the Imports page are streamed to disk here (incoming/),
# then wait for the task worker in the upload storage (STORAGES["imports"]:
# this same directory unless configured otherwise; in docker compose a volume
# shared by web and worker), and are deleted when their import has run.
IMPORT_UPLOAD_DIR = Path(os.environ.get("IMPORT_UPLOAD_DIR", DATA_DIR / "uploads"))
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_BYTES", 2 * 1024**3)  # per file
# What an import refuses to read (issues/importers/limits.py), far above any real dump: GitHub objects nest
# 5 or 6 levels; a body or comment holds at most 65,536 characters, so 20 MB is an issue with hundreds of
# the longest comments; dumps compress 5 to 20 times (GH Archive about 10); imports run at about 25 MB/s.
IMPORT_MAX_DEPTH = env_int("IMPORT_MAX_DEPTH", 64)
IMPORT_MAX_RECORD_BYTES = env_int("IMPORT_MAX_RECORD_BYTES", 20 * 1024**2)
IMPORT_MAX_DECOMPRESSED_BYTES = env_int("IMPORT_MAX_DECOMPRESSED_BYTES", 10 * 1024**3)  # per run
IMPORT_MAX_COMPRESSION_RATIO = env_int("IMPORT_MAX_COMPRESSION_RATIO", 200)
IMPORT_COMPRESSION_RATIO_FLOOR_BYTES = env_int("IMPORT_COMPRESSION_RATIO_FLOOR_BYTES", 100 * 1024**2)
IMPORT_MAX_SECONDS = env_int("IMPORT_MAX_SECONDS", 3600)  # per run
# Every imported issue may be added to any study by its owners (a team that trusts itself); otherwise an admin
# shares imports (the Imports page, `import_issues --share`, or the admin), studies/access.py.
SHARE_ALL_IMPORTS = env_bool("ANNOTATOR_SHARE_ALL_IMPORTS")
# For the Imports page's "Fetch missing comments" (the task worker asks GitHub): a token lifts the API's limit
# from 60 requests an hour to 5,000; GITHUB_API_URL is https://HOST/api/v3 for GitHub Enterprise.
GITHUB_TOKEN = os.environ.get("GITHUB_TOKEN", "")
GITHUB_API_URL = os.environ.get("GITHUB_API_URL", "https://api.github.com")
# Time on task (studies/effort.py): a pause longer than this between two signs of use of the annotation page (a key,
# a click, a scroll, the pointer moving) is not counted as time spent labelling.
ACTIVE_TIME_IDLE_SECONDS = env_int("ANNOTATOR_IDLE_SECONDS", 120)

# Surveys (surveys/): how many responses one client address may start in a window, counted in Django's cache
# (memory) only; the address is never stored.
SURVEY_STARTS_PER_ADDRESS = env_int("SURVEY_STARTS_PER_ADDRESS", 30)
SURVEY_STARTS_WINDOW_SECONDS = env_int("SURVEY_STARTS_WINDOW_SECONDS", 3600)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "studies:list"
LOGOUT_REDIRECT_URL = "login"
SESSION_COOKIE_AGE = 60 * 60 * 24 * 7

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Uploaded dumps wait here for the task worker (issues/uploads.py), so every web process and worker must
    # reach it: by default the directory IMPORT_UPLOAD_DIR; else any Django storage backend, e.g.
    # IMPORT_STORAGE_BACKEND=storages.backends.s3.S3Storage IMPORT_STORAGE_OPTIONS='{"bucket_name": "…"}'.
    "imports": {
        "BACKEND": os.environ.get("IMPORT_STORAGE_BACKEND", "django.core.files.storage.FileSystemStorage"),
        "OPTIONS": json.loads(os.environ.get("IMPORT_STORAGE_OPTIONS") or "{}"),
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Security. Nothing on a page may run unless it comes from our own static
# files or carries the per-request nonce; issue bodies are untrusted HTML.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Served behind TLS (HTTPS=1): cookies only over HTTPS, redirect plain HTTP,
# and trust X-Forwarded-Proto, which only the TLS-terminating proxy may set:
# with no proxy trusted, a client could send it itself and skip the redirect.
HTTPS = env_bool("HTTPS")
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
if HTTPS and ANNOTATOR_TRUSTED_PROXIES:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
elif HTTPS:  # a TLS proxy nobody declared would meet an endless redirect: it gets a page saying what to set
    MIDDLEWARE.insert(0, "annotator.middleware.UntrustedProxyMiddleware")
# Health checks from the container network come over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
