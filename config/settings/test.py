"""Settings for the test suite: the same database choice as the environment gives, fast hashing, mail kept
in memory. Celery stays eager unless a test starts real workers of its own (see tests/integration)."""

from .base import *  # noqa: F403
from .base import env

DEBUG = False
SECRET_KEY = "test-only-not-secret"  # noqa: S105 (the test settings only)
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# In memory for the suite; integration tests give their worker processes a file backend to count e-mails.
EMAIL_BACKEND = env("DJANGO_EMAIL_BACKEND", default="django.core.mail.backends.locmem.EmailBackend")
EMAIL_FILE_PATH = env("DJANGO_EMAIL_FILE_PATH", default="")
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
PERCOLATE_DEMO_ALLOWED = True
LOGGING["root"]["level"] = env("LOG_LEVEL", default="WARNING")  # noqa: F405
# Integration tests kill a worker in the middle of a shard: this makes the middle last long enough.
PERCOLATE_CHECK_TEST_PAUSE_SECONDS = env.float("PERCOLATE_CHECK_TEST_PAUSE_SECONDS", default=0)
