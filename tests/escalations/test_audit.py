"""The hash-chained audit trail, its checkpoints, and ``verify_audit`` on the database."""

import datetime as dt
import itertools
import json
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.db import DatabaseError, connection, transaction

from escalations.audit_trail import Verb, json_safe
from escalations.lifecycle import FlagStatus
from escalations.models import AuditCheckpoint, Event
from escalations.services.events import audit_chain_check

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


def test_a_broken_chain_alerts_the_admins_once(history, make_user, django_capture_on_commit_callbacks):
    from django.core import mail

    from core.permissions import Role

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


def cut_tail(events: list[Event], n: int) -> None:
    """Delete the last ``n`` events, as someone with the database's superuser could."""
    for event in events[-n:]:
        behind_the_applications_back(f"DELETE FROM {Event._meta.db_table} WHERE id = %s", [event.pk])


def test_the_nightly_verification_checkpoints_the_head_without_writing_an_event(history):
    assert audit_chain_check() is None
    checkpoint = AuditCheckpoint.objects.get()
    assert (checkpoint.last_event_id, checkpoint.head_hash, checkpoint.event_count) == (
        history[-1].pk,
        history[-1].hash,
        len(history),
    )
    assert checkpoint.source == "nightly verification"
    assert Event.objects.count() == len(history)  # a record about the chain, not a change in it


def test_without_a_checkpoint_a_cut_tail_cannot_be_told_from_a_shorter_history(history):
    """Why checkpoints exist: the events that remain still link up."""
    cut_tail(history, 2)
    call_command("verify_audit")


def test_verify_audit_notices_a_cut_tail(history):
    audit_chain_check()
    cut_tail(history, 2)
    with pytest.raises(CommandError) as failure:
        call_command("verify_audit")
    message = str(failure.value)
    assert f"the chain ends at event #{history[-3].pk} but the checkpoint of " in message
    assert f"recorded event #{history[-1].pk} with hash {history[-1].hash} ({len(history)} events)" in message
    assert message.startswith(f"audit chain broken: the chain ends at event #{history[-3].pk}")


def test_the_chain_must_reach_every_checkpoint_not_only_the_latest(history, flag_in):
    audit_chain_check()
    cut_tail(history, 1)
    flag_in(FlagStatus.IN_REVIEW)  # new events after the cut: the chain is long again, and links up
    with pytest.raises(CommandError, match=f"recorded this event with hash {history[-1].hash}, and it is no longer"):
        call_command("verify_audit")


def test_a_cut_tail_alerts_the_admins_once(history, make_user, django_capture_on_commit_callbacks):
    from django.core import mail

    from core.permissions import Role

    admin = make_user(Role.ADMIN, username="sysadmin")  # granting the role is an event too: the chain's end
    events = list(Event.objects.order_by("id"))
    audit_chain_check()
    cut_tail(events, 2)
    with django_capture_on_commit_callbacks(execute=True):
        alert = audit_chain_check()
        assert audit_chain_check() is None  # the same cut is reported once
    assert (alert.verb, alert.data["event"]) == ("audit.chain_broken", events[-1].pk)
    assert "the events after it were removed" in alert.data["problem"]
    assert [m.subject for m in mail.outbox if m.to == [admin.email]] == ["[Percolate] Audit chain broken"]
    assert AuditCheckpoint.objects.count() == 1  # a broken chain is never checkpointed


def test_a_checkpoint_rewritten_to_match_a_cut_tail_is_noticed(history):
    audit_chain_check()
    cut_tail(history, 2)
    behind_the_applications_back(
        f"UPDATE {AuditCheckpoint._meta.db_table} SET last_event_id = %s, head_hash = %s, event_count = %s",
        [history[-3].pk, history[-3].hash, len(history) - 2],
    )
    with pytest.raises(CommandError, match="its signature does not match"):
        call_command("verify_audit")


def test_a_checkpoint_signed_with_another_key_is_noticed(history, settings):
    audit_chain_check()
    settings.PERCOLATE_AUDIT_KEY = "a key of its own"
    with pytest.raises(CommandError, match="PERCOLATE_AUDIT_KEY changed"):
        call_command("verify_audit")


@pytest.mark.parametrize(
    "sql", ["UPDATE escalations_auditcheckpoint SET event_count = 0", "DELETE FROM escalations_auditcheckpoint"]
)
def test_the_database_refuses_to_change_checkpoints(history, sql):
    from ..conftest import require_service

    require_service("PostgreSQL", connection.vendor == "postgresql")
    audit_chain_check()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)
    call_command("verify_audit")


def test_verify_audit_writes_nothing(history):
    call_command("verify_audit")
    assert AuditCheckpoint.objects.count() == 0


def test_the_admin_shows_checkpoints_and_cannot_change_them(history, client, django_user_model):
    audit_chain_check()
    checkpoint = AuditCheckpoint.objects.get()
    client.force_login(django_user_model.objects.create_superuser("root", "root@example.org", "x"))
    listing = client.get("/admin/escalations/auditcheckpoint/")
    assert listing.status_code == 200 and checkpoint.head_hash in listing.content.decode()
    assert client.get("/admin/escalations/auditcheckpoint/add/").status_code == 403
    deleting = client.post(f"/admin/escalations/auditcheckpoint/{checkpoint.pk}/delete/", {"post": "yes"})
    assert deleting.status_code == 403
    assert AuditCheckpoint.objects.count() == 1


def test_json_safe_is_exactly_the_json_round_trip():
    """Events are hashed from ``json_safe(data)`` before they are stored and re-hashed from the stored JSON:
    the conversion without text must give what writing and reading the JSON gives, type for type."""
    from enum import IntEnum

    class Level(IntEnum):
        HIGH = 3

    data = {
        "signals": [
            {"period": dt.date(2024, 6, 1), "value": Decimal("94.500000"), "measure": Decimal("1E+2"), "n": 3},
            {"when": dt.datetime(2026, 11, 30, 8, 1, 2, 345678, tzinfo=dt.UTC), "ok": True, "none": None},
        ],
        "verb": Verb.FLAG_DETECTED,
        "level": Level.HIGH,
        "ratio": 0.25,
        "pair": (1, "two"),
        "by_id": {1: "one", 2: Decimal("2.50")},
        "nested": {"deep": [[Decimal("-0.000001")]]},
        "word": "naïve – ü",
    }
    expected = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    converted = json_safe(data)
    assert converted == expected
    assert repr(converted) == repr(expected)  # the same types too: no Decimal, date, tuple or enum left

    with pytest.raises(TypeError):
        json_safe({"object": object()})
