"""Settings per run mode and the demo seed."""

import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from core.permissions import roles_of
from indicators.models import Indicator


def sign_in(username: str):
    return authenticate(RequestFactory().post("/accounts/login/"), username=username, password="demo")


def run_production_check(**env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(DJANGO_SETTINGS_MODULE="config.settings.production", **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=settings.BASE_DIR, env=environment, capture_output=True, text=True
    )


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"DJANGO_ALLOWED_HOSTS": "percolate.example"}, "DJANGO_SECRET_KEY"),
        ({"DJANGO_SECRET_KEY": "x" * 50}, "DJANGO_ALLOWED_HOSTS"),
    ],
)
def test_production_settings_refuse_to_start_without_secrets(env, missing):
    result = run_production_check(**env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_production_settings_start_with_them():
    result = run_production_check(DJANGO_SECRET_KEY="x" * 50, DJANGO_ALLOWED_HOSTS="percolate.example")
    assert result.returncode == 0, result.stderr


@pytest.mark.django_db
def test_seed_demo_loads_real_data_and_accounts_and_is_idempotent(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    assert Indicator.objects.count() == 1139
    liaison = sign_in("liaison")
    assert roles_of(liaison) == {"liaison"}
    assert sorted(liaison.agencies.values_list("code", flat=True)) == ["DOT", "DSNY"]
    assert list(sign_in("deputy").portfolios.values_list("code", flat=True)) == ["OPS"]
    assert sign_in("admin").is_superuser
    for name in ("lead", "pm", "auditor"):
        assert sign_in(name) is not None
    assert "already imported" in capsys.readouterr().out


@pytest.mark.django_db
def test_seed_demo_refuses_outside_local_use(settings):
    settings.PERCOLATE_DEMO_ALLOWED = False
    with pytest.raises(CommandError, match="refuses"):
        call_command("seed_demo")
    assert not Indicator.objects.exists()
