"""Security defaults: deploy checks, headers, sign-in lockout, and failing safely when the database is gone."""

import datetime as dt
import json
import os
import subprocess
import sys

import pytest
import time_machine
from django.conf import settings
from django.utils import timezone

from .factories import UserFactory

JSON = "application/json"

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "a-long-random-production-secret-" + "k7Qz9xW2mP4vB8nR3tY6uH1jL5cF0sD",
    "DJANGO_ALLOWED_HOSTS": "percolate.example",
}


def run(code_or_args: list[str], **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(env)
    return subprocess.run(
        [sys.executable, *code_or_args], cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True
    )


def test_production_settings_pass_the_deploy_checks():
    result = run(["manage.py", "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/login/", "/healthz"])
def test_pages_carry_the_content_security_policy_and_security_headers(client, path):
    response = client.get(path)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Request-ID"]


@pytest.mark.django_db
def test_healthz_reports_database_broker_and_last_run(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok" and body["status"] == "ok"
    assert body["last_check_run"]["stale"] is True  # no nightly run yet


UNREACHABLE = "postgres://nobody@127.0.0.1:9/nowhere"
PROBE = """
import django, json
django.setup()
from django.test import Client
client = Client(raise_request_exception=False, HTTP_HOST="localhost")
health = client.get("/healthz")
page = client.post("/admin/login/", {"username": "maria", "password": "secret"})
print(json.dumps({"health": [health.status_code, health.json()], "page": [page.status_code, page.content.decode()]}))
"""


def test_without_the_database_healthz_says_503_and_pages_show_a_clear_error():
    result = run(["-c", PROBE], DJANGO_SETTINGS_MODULE="config.settings.test", DATABASE_URL=UNREACHABLE)
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    status, health = outcome["health"]
    assert status == 503 and health["status"] == "unavailable" and health["database"].startswith("unreachable")
    status, page = outcome["page"]
    assert status == 500
    assert "Percolate is unavailable right now" in page and "Traceback" not in page


@pytest.mark.django_db
def test_sign_in_locks_out_after_repeated_failures_and_unlocks_later(client):
    UserFactory(username="maria", password="right-password", is_staff=True)
    statuses = [
        client.post("/admin/login/", {"username": "maria", "password": "wrong"}).status_code
        for _ in range(settings.AXES_FAILURE_LIMIT)
    ]
    assert statuses[0] == 200  # the form again, with its error
    response = client.post("/admin/login/", {"username": "maria", "password": "right-password"})
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    later = timezone.now() + settings.AXES_COOLOFF_TIME + dt.timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        response = client.post("/admin/login/", {"username": "maria", "password": "right-password"})
    assert response.status_code == 302


@pytest.mark.django_db
def test_api_responses_carry_the_security_headers_too(client):
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff" and response["X-Frame-Options"] == "DENY"


JSON = "application/json"


@pytest.mark.django_db
def test_the_token_endpoint_locks_out_too(client):
    UserFactory(username="script", password="right-password")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/api/v1/auth/token/", {"username": "script", "password": "wrong"}, content_type=JSON)
    response = client.post(
        "/api/v1/auth/token/", {"username": "script", "password": "right-password"}, content_type=JSON
    )
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.json()["detail"]
    later = timezone.now() + settings.AXES_COOLOFF_TIME + dt.timedelta(minutes=1)
    with time_machine.travel(later, tick=False):
        response = client.post(
            "/api/v1/auth/token/", {"username": "script", "password": "right-password"}, content_type=JSON
        )
    assert response.status_code == 200 and response.json()["token"]
