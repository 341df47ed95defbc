"""The Celery app. Tasks are discovered in each app's ``tasks.py``; configuration comes from the
Django settings under the ``CELERY_`` prefix, so the embedded mode (eager) and the scale-out mode (Redis)
differ only by environment. The observability receivers carry a request's id into the tasks it sends and
give workers and beat the same JSON log lines as the web processes."""

import os

from celery import Celery

from .observability import celery_signals_connect

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("percolate")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
celery_signals_connect()
