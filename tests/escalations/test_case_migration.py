"""The migration that turns per-rule flags into cases: open flags of one indicator and category merge into one
case (the one furthest along), every flag's measurement becomes a signal, and each change is an event chained
onto the audit trail, which still verifies."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from escalations.audit_trail import audit_chain_verify
from escalations.models import Event, Flag, Signal

BEFORE = [
    ("escalations", "0003_event_append_only"),
    ("indicators", "0006_incremental_check_by_date_and_reported_through"),
]


@pytest.mark.django_db(transaction=True)
def test_open_flags_of_an_indicator_merge_into_one_case_and_the_chain_still_verifies():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    Agency, Indicator, Rule = (old.get_model("indicators", name) for name in ("Agency", "Indicator", "ThresholdRule"))
    OldFlag = old.get_model("escalations", "Flag")
    agency = Agency.objects.create(code="MIG", name="Migration agency")
    indicator = Indicator.objects.create(agency=agency, external_id="M1", name="Merged", desired_direction="up")
    other = Indicator.objects.create(agency=agency, external_id="M2", name="Alone", desired_direction="up")
    yoy = Rule.objects.create(name="yoy", kind="year_over_year", yellow=5, red=10, critical_factor=Decimal("0.5"))
    target = Rule.objects.create(name="target", kind="target", yellow=0, red=10, critical_factor=Decimal("0.5"))
    now = timezone.now()

    def flag(indicator, rule, status, severity, worse_by, **fields):
        return OldFlag.objects.create(
            indicator=indicator,
            rule=rule,
            status=status,
            severity=severity,
            period=dt.date(2022, 7, 1),
            value=Decimal(90),
            baseline=Decimal(100),
            change=Decimal("-0.1"),
            worse_by=Decimal(worse_by),
            detected_at=now,
            last_detected_at=now,
            **fields,
        )

    detected = flag(indicator, yoy, "detected", "yellow", "0.06")
    reviewed = flag(indicator, target, "in_review", "red", "0.12", severity_pinned=True)
    dismissed = flag(other, yoy, "dismissed", "yellow", "0.07", dismiss_reason="other", closed_at=now)

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    case = Flag.objects.get(pk=reviewed.pk)  # furthest along: in review
    absorbed = Flag.objects.get(pk=detected.pk)
    assert (case.status, absorbed.status) == ("in_review", "resolved")
    assert absorbed.resolution.startswith(f"Merged into case #{case.pk}")
    assert sorted(case.signals.values_list("rule__kind", "measure", "unit", "severity")) == [
        ("target", Decimal(12), "percent", "red"),
        ("year_over_year", Decimal(6), "percent", "yellow"),
    ]
    assert (case.severity, case.severity_pinned) == ("red", True)
    assert Signal.objects.filter(flag=absorbed).count() == 1  # the absorbed flag keeps its own, too
    assert Signal.objects.get(flag_id=dismissed.pk).measure == 7  # a closed case's signal, as the decision saw it
    merged = Event.objects.filter(verb="flag.merged").order_by("id")
    assert [(e.flag_id, e.actor_label) for e in merged] == [
        (absorbed.pk, "case migration"),
        (case.pk, "case migration"),
    ]
    assert merged.last().data["merged"] == [absorbed.pk]
    assert not Event.objects.filter(flag_id=dismissed.pk).exists()  # nothing to merge: nothing written
    assert audit_chain_verify() is None
