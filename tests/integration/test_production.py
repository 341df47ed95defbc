"""Production mode for real: gunicorn serving config.wsgi under the production settings (secrets from the
environment, HTTPS behind a proxy), against the test database on PostgreSQL."""

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from ..conftest import require_service
from .conftest import spare_port, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.django_db]


def get(url: str, **headers) -> tuple[int, dict, bytes]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(urllib.request.Request(url, headers=headers), timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_gunicorn_serves_the_production_settings(tmp_path):
    require_service("PostgreSQL (DATABASE_URL)", connection.vendor == "postgresql")
    db = connection.settings_dict
    port = spare_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")},
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "DJANGO_SECRET_KEY": "production-test-" + "x" * 40,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [gunicorn, "config.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2"],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _answers(base), timeout=30, what="gunicorn to start")
        # Plain HTTP is sent to HTTPS; behind the proxy (X-Forwarded-Proto) the answer comes with HSTS.
        status, headers, _ = get(f"{base}/healthz")
        assert status == 301 and headers["Location"].startswith("https://")
        status, headers, body = get(f"{base}/healthz", **{"X-Forwarded-Proto": "https"})
        assert status == 200 and b'"database": "ok"' in body
        assert "max-age=31536000" in headers["Strict-Transport-Security"]
        assert "script-src 'self'" in headers["Content-Security-Policy"]
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
        print((tmp_path / "gunicorn.log").read_text()[-3000:])


def _answers(base: str) -> bool:
    try:
        get(f"{base}/healthz")
        return True
    except OSError:
        return False
