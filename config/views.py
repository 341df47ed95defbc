"""Project-level endpoints: the health check for load balancers, and the sign-in lockout response."""

import datetime as dt

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

# A nightly run older than this means the nightly job is not running.
NIGHTLY_RUN_MAX_AGE = dt.timedelta(hours=36)


def _database_ok() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, "ok"
    except Exception as error:  # noqa: BLE001 (any failure to reach the database is the answer, not a crash)
        return False, f"unreachable: {error.__class__.__name__}"


def _broker_ok() -> tuple[bool, str]:
    if not settings.REDIS_URL:
        return True, "eager (no broker configured)"
    from config.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return True, "ok"
    except Exception as error:  # noqa: BLE001 (likewise the broker)
        return False, f"unreachable: {error.__class__.__name__}"


def _last_nightly_run() -> dict:
    from indicators.models import CheckRun, CheckRunStatus

    run = CheckRun.objects.filter(status=CheckRunStatus.SUCCEEDED).order_by("-finished_at").first()
    if run is None or run.finished_at is None:
        return {"finished_at": None, "age_hours": None, "stale": True}
    age = timezone.now() - run.finished_at
    return {
        "id": run.pk,
        "finished_at": run.finished_at.isoformat(),
        "age_hours": round(age.total_seconds() / 3600, 1),
        "stale": age > NIGHTLY_RUN_MAX_AGE,
    }


def _outbox() -> dict:
    from escalations.services.outbox import outbox_counts

    return outbox_counts()


@never_cache
def healthz(request):
    """200 when the database and the broker answer, 503 otherwise; the last successful check run and its
    age, and the outbox's waiting and failed messages are reported (a stale run or a failed e-mail is a warning
    for people, not a reason to take the server out of rotation)."""
    database_ok, database = _database_ok()
    broker_ok, broker = _broker_ok()
    body = {"status": "ok" if database_ok and broker_ok else "unavailable", "database": database, "broker": broker}
    if database_ok:
        body["last_check_run"] = _last_nightly_run()
        body["outbox"] = _outbox()
    return JsonResponse(body, status=200 if database_ok and broker_ok else 503)


def sign_in_username(request, credentials=None) -> str:
    """The username django-axes counts failures against: what was typed, cut to the length Django allows
    and without NUL characters, so an absurd sign-in attempt is just a failure, never a database error."""
    source = credentials if credentials is not None else getattr(request, "POST", {})
    username = source.get("username") or ""
    return str(username).replace("\x00", "")[:150]


def locked_out(request, credentials=None, *args, **kwargs):
    """What django-axes answers once a sign-in is locked out: JSON for the API, a page for people."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    message = f"Too many failed sign-ins. Try again in {minutes} minutes."
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    return render(request, "429.html", {"message": message}, status=429)
