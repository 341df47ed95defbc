"""Celery tasks of the indicators app: background imports. Thin: each takes an id and calls one service.

No ``acks_late``: a redelivered import would find its upload already running and do nothing; a run whose worker
died is started again by the sweep (``import_uploads_sweep``), which beat runs every minute."""

import logging

from celery import shared_task
from django.conf import settings

from .services import import_upload_run, import_uploads_sweep

logger = logging.getLogger(__name__)


@shared_task(time_limit=settings.PERCOLATE_IMPORT_TIME_LIMIT)
def import_upload(upload_id: int) -> str | None:
    """Import one stored upload (queued → done or failed); nothing when another run has it."""
    upload = import_upload_run(upload_id=upload_id)
    return upload.status if upload else None


@shared_task
def sweep_import_uploads() -> int:
    """Every minute (beat): start the uploads still queued, and again those whose worker died."""
    return import_uploads_sweep()
