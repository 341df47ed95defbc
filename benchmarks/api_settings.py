"""Settings for ``bench_api.py``'s gunicorn: production-like (DEBUG off, no toolbar, real PostgreSQL from
``DATABASE_URL``) plus the benchmark's floor view in its own URLconf, never in the product's URLs."""

from config.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "benchmark-only-not-secret"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "benchmarks.api_urls"
EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
