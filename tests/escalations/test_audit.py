"""The hash-chained audit trail and ``verify_audit``."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

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
    for before, after in zip(history, history[1:], strict=False):
        assert after.prev_hash == before.hash


def test_verify_audit_passes_on_a_clean_history(history, capsys):
    call_command("verify_audit")
    assert f"{len(history)} events" in capsys.readouterr().out


def test_verify_audit_names_an_event_altered_behind_the_applications_back(history):
    tampered = history[2]
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {Event._meta.db_table} SET to_status = %s WHERE id = %s", ["resolved", tampered.pk])
    with pytest.raises(CommandError, match=f"event #{tampered.pk}"):
        call_command("verify_audit")


def test_verify_audit_notices_a_removed_event(history):
    removed = history[2]
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Event._meta.db_table} WHERE id = %s", [removed.pk])
    with pytest.raises(CommandError, match=f"event #{history[3].pk}"):
        call_command("verify_audit")
