"""The hash-chained audit trail and ``verify_audit``."""

import itertools

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from escalations.lifecycle import FlagStatus
from escalations.models import Event

pytestmark = pytest.mark.django_db


@pytest.fixture
def history(flag_in, deputy):
    flag_in(FlagStatus.AGENCY_MANAGED)
    flag_in(FlagStatus.PROJECT)
    assert Event.objects.count() >= 5
    return list(Event.objects.order_by("id"))


def test_each_event_chains_onto_the_previous_one(history):
    assert history[0].prev_hash == "0" * 64
    for before, after in itertools.pairwise(history):
        assert after.prev_hash == before.hash


def test_verify_audit_passes_on_a_clean_history(history, capsys):
    call_command("verify_audit")
    assert f"{len(history)} events" in capsys.readouterr().out


def behind_the_applications_back(sql: str, params: list) -> None:
    """Run ``sql`` as someone with direct database access would; on PostgreSQL that means first switching off
    the append-only triggers (only a superuser can: replica mode fires no ordinary trigger)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = origin")


def test_verify_audit_names_an_event_altered_behind_the_applications_back(history):
    tampered = history[2]
    behind_the_applications_back(
        f"UPDATE {Event._meta.db_table} SET to_status = %s WHERE id = %s", ["resolved", tampered.pk]
    )
    with pytest.raises(CommandError, match=f"event #{tampered.pk}"):
        call_command("verify_audit")


def test_verify_audit_notices_a_removed_event(history):
    removed = history[2]
    behind_the_applications_back(f"DELETE FROM {Event._meta.db_table} WHERE id = %s", [removed.pk])
    with pytest.raises(CommandError, match=f"event #{history[3].pk}"):
        call_command("verify_audit")


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE escalations_event SET verb = 'flag.dismissed' WHERE id = %s",
        "DELETE FROM escalations_event WHERE id = %s",
    ],
)
def test_the_database_refuses_to_change_events(history, sql):
    from ..conftest import require_service

    require_service("PostgreSQL", connection.vendor == "postgresql")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [history[0].pk])
    call_command("verify_audit")


def test_export_audit_writes_every_event_with_its_hash(history, tmp_path):
    import json

    target = tmp_path / "audit.jsonl"
    call_command("export_audit", str(target))
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [(r["id"], r["verb"], r["hash"], r["prev_hash"]) for r in rows] == [
        (e.pk, e.verb, e.hash, e.prev_hash) for e in history
    ]


def test_a_broken_chain_alerts_the_admins_once(history, make_user, django_capture_on_commit_callbacks):
    from django.core import mail

    from core.permissions import Role
    from escalations.services.events import audit_chain_check

    admin = make_user(Role.ADMIN, username="sysadmin")
    assert audit_chain_check() is None
    behind_the_applications_back(
        f"UPDATE {Event._meta.db_table} SET verb = %s WHERE id = %s", ["flag.dismissed", history[1].pk]
    )
    with django_capture_on_commit_callbacks(execute=True):
        alert = audit_chain_check()
        assert audit_chain_check() is None  # the same break is reported once
    assert (alert.verb, alert.data["event"]) == ("audit.chain_broken", history[1].pk)
    # One e-mail to the admin (the dispatcher also sent what the history's own events owed their audience).
    assert [m.subject for m in mail.outbox if m.to == [admin.email]] == ["[Percolate] Audit chain broken"]
