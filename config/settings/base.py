"""Settings shared by every run mode. Everything that differs between machines comes from the environment:
``DATABASE_URL`` (default: a SQLite file) and ``REDIS_URL`` (default: none, Celery runs tasks eagerly)."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent.parent

env = environ.Env()

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "core",
    "indicators",
    "escalations",
]

MIDDLEWARE = [
    "config.observability.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "core.middleware.DomainErrorMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "core.context_processors.permissions",
                "escalations.context_processors.percolate",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE makes a writing transaction take SQLite's write lock at BEGIN, so two writers queue up
    # instead of failing with "database is locked" when the second one tries to upgrade its read lock.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

AUTHENTICATION_BACKENDS = [
    # First: refuses any sign-in (form, admin, API token) while the username/address is locked out.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Lock a username from one address out after repeated failures, for a while.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_USERNAME_CALLABLE = "config.views.sign_in_username"
AXES_LOCKOUT_CALLABLE = "config.views.locked_out"

SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)  # one working day
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
# Only the site's own scripts, styles, images and fonts; no inline script, no framing, no plug-ins.
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

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="percolate@localhost")
# Seconds an SMTP server may take to answer: the outbox's dispatcher holds an e-mail's row while it sends, and a
# server that never answers must fail that e-mail (retried later), not hold the dispatcher for ever.
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)

# The cache carries short-lived shared state, such as an import's progress for the page that polls it: Redis
# when there is one (shared by every web process), else memory (the embedded mode's single process).
REDIS_URL = env("REDIS_URL", default="")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "percolate"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Celery: with REDIS_URL a real broker and workers; without it tasks run eagerly in process.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# Separate queues let parallel test processes (and environments sharing one Redis) keep their tasks apart.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_TASK_DEFAULT_QUEUE", default="celery")
# Redis hands an unacknowledged task to another worker after this many seconds: every task's time limit
# must stay below it, or a long task would run twice at once.
CELERY_VISIBILITY_TIMEOUT = env.int("CELERY_VISIBILITY_TIMEOUT", default=3600)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_VISIBILITY_TIMEOUT}
# The outbox (escalations.services.outbox): beat runs its dispatcher every this many seconds; a failed delivery
# waits RETRY_BASE seconds, doubling each time up to RETRY_CAP, and fails for good after MAX_ATTEMPTS.
PERCOLATE_OUTBOX_DISPATCH_EVERY = env.float("PERCOLATE_OUTBOX_DISPATCH_EVERY", default=10.0)
PERCOLATE_OUTBOX_RETRY_BASE = env.float("PERCOLATE_OUTBOX_RETRY_BASE", default=30.0)
PERCOLATE_OUTBOX_RETRY_CAP = env.float("PERCOLATE_OUTBOX_RETRY_CAP", default=3600.0)
PERCOLATE_OUTBOX_MAX_ATTEMPTS = env.int("PERCOLATE_OUTBOX_MAX_ATTEMPTS", default=10)
# Periodic jobs, run by the single `celery -A config beat`.
CELERY_BEAT_SCHEDULE = {
    # CELERY_TIMEZONE is New York's: 02:00 local, across daylight-saving changes.
    "nightly-checks": {"task": "escalations.tasks.nightly_checks", "schedule": crontab(hour=2, minute=0)},
    "sweep-check-shards": {"task": "escalations.tasks.sweep_check_shards", "schedule": 300.0},
    # The outbox's dispatcher: delivers what a kick after commit could not (the broker was down) and retries.
    # A run that waited longer than its period is dropped: the next one does the same work.
    "dispatch-outbox": {
        "task": "escalations.tasks.dispatch_outbox",
        "schedule": PERCOLATE_OUTBOX_DISPATCH_EVERY,
        "options": {"expires": PERCOLATE_OUTBOX_DISPATCH_EVERY},
    },
    # Background imports whose kick after commit was lost (the broker was down), or whose worker died.
    "sweep-import-uploads": {"task": "indicators.tasks.sweep_import_uploads", "schedule": 60.0},
    "mark-overdue-flags": {"task": "escalations.tasks.mark_overdue", "schedule": crontab(minute=5)},
    "resume-monitoring": {"task": "escalations.tasks.resume_monitoring", "schedule": crontab(hour=6, minute=0)},
    "send-digests": {"task": "escalations.tasks.send_digests", "schedule": crontab(hour=7, minute=0)},
    "verify-audit": {"task": "escalations.tasks.verify_audit", "schedule": crontab(hour=3, minute=30)},
}

# The key that signs the audit chain's checkpoints (HMAC-SHA256). Empty: the SECRET_KEY signs them. A key of
# its own survives a SECRET_KEY rotation and can be held by whoever checks the exports off-site.
PERCOLATE_AUDIT_KEY = env("PERCOLATE_AUDIT_KEY", default="")

# Detection runs: indicators per shard, a shard's time limit (seconds), attempts before a shard fails its run.
PERCOLATE_CHECK_SHARD_SIZE = env.int("PERCOLATE_CHECK_SHARD_SIZE", default=5000)
# Shards that only re-check the date-dependent rules (stale) read one index entry per indicator: larger ones.
PERCOLATE_CHECK_DATED_SHARD_SIZE = env.int("PERCOLATE_CHECK_DATED_SHARD_SIZE", default=100_000)
PERCOLATE_CHECK_SHARD_TIME_LIMIT = env.int(
    "PERCOLATE_CHECK_SHARD_TIME_LIMIT", default=min(1800, CELERY_VISIBILITY_TIMEOUT * 3 // 4)
)
if PERCOLATE_CHECK_SHARD_TIME_LIMIT >= CELERY_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured("PERCOLATE_CHECK_SHARD_TIME_LIMIT must be below CELERY_VISIBILITY_TIMEOUT")
PERCOLATE_CHECK_MAX_ATTEMPTS = env.int("PERCOLATE_CHECK_MAX_ATTEMPTS", default=5)
# The sweeper re-queues a shard that has not finished this many seconds after it started.
PERCOLATE_CHECK_STUCK_AFTER = env.int("PERCOLATE_CHECK_STUCK_AFTER", default=PERCOLATE_CHECK_SHARD_TIME_LIMIT + 60)
# Seconds a shard waits before committing: only the test settings set it (to kill a worker mid-shard).
PERCOLATE_CHECK_TEST_PAUSE_SECONDS = 0
# The date of a check started without one: "today", or "data" — the end of the latest period with data (the
# embedded demo, whose data ends in 2022: checked as of today, every indicator would be years overdue).
PERCOLATE_BLANK_AS_OF = env.str("PERCOLATE_BLANK_AS_OF", default="today")
if PERCOLATE_BLANK_AS_OF not in ("today", "data"):
    raise ImproperlyConfigured('PERCOLATE_BLANK_AS_OF must be "today" or "data"')

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "escalations.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON in (bounded: escalations/api/parsers.py); imports take a multipart file of their own.
    "DEFAULT_PARSER_CLASSES": ["escalations.api.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "DEFAULT_SCHEMA_CLASS": "escalations.api.schema.PercolateAutoSchema",
    "EXCEPTION_HANDLER": "escalations.api.exceptions.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "escalations.api.pagination.Pagination",
    "PAGE_SIZE": 50,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Percolate API",
    "DESCRIPTION": "Escalation case management for agency performance indicators.",
    "VERSION": "1",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "escalations.api.schema.mark_bodies",
    ],
    "ENUM_NAME_OVERRIDES": {
        "FlagStatusEnum": "escalations.lifecycle.FlagStatus",
        "ProjectStatusEnum": "escalations.models.ProjectStatus",
        "CheckRunStatusEnum": "indicators.models.CheckRunStatus",
        "ActionEnum": "escalations.lifecycle.Action",
        "DismissReasonEnum": "escalations.lifecycle.DismissReason",
        "RuleKindEnum": "indicators.models.RuleKind",
        "NoteKindEnum": "escalations.models.NoteKind",
    },
}

# API tokens (django-rest-knox): how long one lasts from its sign-in (``POST /api/v1/auth/token/``). Clients
# send ``Authorization: Token …``, the prefix they have always used.
PERCOLATE_API_TOKEN_TTL = timedelta(hours=env.float("PERCOLATE_API_TOKEN_TTL_HOURS", default=10))
REST_KNOX = {"TOKEN_TTL": PERCOLATE_API_TOKEN_TTL, "AUTH_HEADER_PREFIX": "Token", "AUTO_REFRESH": False}

# Largest JSON body the API reads (bytes); an import's file has its own limit below.
PERCOLATE_API_MAX_BODY_BYTES = env.int("PERCOLATE_API_MAX_BODY_BYTES", default=2 * 1024 * 1024)

# Largest file accepted by an import (bytes).
PERCOLATE_IMPORT_MAX_BYTES = env.int("PERCOLATE_IMPORT_MAX_BYTES", default=200 * 1024 * 1024)
# Files larger than this (bytes) are stored and imported by a Celery task (``indicators.tasks.import_upload``):
# the page and the API answer at once and show the import's progress, where a request importing a 100 MB file
# would outlast the web server's timeout. Smaller files are imported inside the request, as before.
PERCOLATE_IMPORT_BACKGROUND_BYTES = env.int("PERCOLATE_IMPORT_BACKGROUND_BYTES", default=5 * 1024 * 1024)
# A background import's time limit (seconds; below the broker's visibility timeout, as a shard's is); a run
# killed by it or with its worker is started again by the sweep, up to PERCOLATE_IMPORT_MAX_ATTEMPTS runs.
PERCOLATE_IMPORT_TIME_LIMIT = env.int(
    "PERCOLATE_IMPORT_TIME_LIMIT", default=min(1800, CELERY_VISIBILITY_TIMEOUT * 3 // 4)
)
if PERCOLATE_IMPORT_TIME_LIMIT >= CELERY_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured("PERCOLATE_IMPORT_TIME_LIMIT must be below CELERY_VISIBILITY_TIMEOUT")
PERCOLATE_IMPORT_MAX_ATTEMPTS = env.int("PERCOLATE_IMPORT_MAX_ATTEMPTS", default=3)

# Structured logs: one JSON object per line (python-json-logger) with the time, level, logger, message, the
# request id, the user and the path (see config/observability.py), the exception's traceback, and every
# ``extra=`` key of the call. Celery workers and beat use it too, and a task's lines carry the id of the request
# that sent it. LOG_FORMAT=text for a human at a terminal.
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "config.observability.RequestContextFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": ["asctime", "levelname", "name", "message", "request_id", "user", "path"],
            "datefmt": "%Y-%m-%dT%H:%M:%S%z",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger", "exc_info": "exception"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s %(user)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request"],
            "formatter": env("LOG_FORMAT", default="json"),
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# Only local and test settings may create the demo accounts (known passwords).
PERCOLATE_DEMO_ALLOWED = False
