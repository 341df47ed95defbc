"""Embedded mode for a developer's machine: debug on, e-mail to the console, a development secret key."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
SECRET_KEY = env("DJANGO_SECRET_KEY", default="local-development-only-not-secret")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
PERCOLATE_DEMO_ALLOWED = True
# The demo data ends in 2022: a check without a date is for the day the data runs through, not for today.
PERCOLATE_BLANK_AS_OF = env.str("PERCOLATE_BLANK_AS_OF", default="data")

LOGGING["handlers"]["console"]["formatter"] = env("LOG_FORMAT", default="text")  # noqa: F405
