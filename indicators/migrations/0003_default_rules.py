"""The design's default threshold rules (editable afterwards)."""

from decimal import Decimal

from django.db import migrations

DEFAULT_RULES = [
    # name, kind, yellow, red, params, active
    ("Year-over-year slip", "year_over_year", "5", "10", {}, True),
    ("Target missed", "target", "0", "10", {}, True),
    ("Outside control limits", "control_limit", "2", "3", {"window": 24, "min_points": 8}, True),
    ("Sustained decline", "sustained", "3", "5", {}, True),
    ("Reporting gap", "stale", "0", "30", {"grace_days": 30}, True),
    # Month-to-month moves are mostly seasonal noise: seeded but off.
    ("Period-over-period slip", "period_change", "10", "20", {}, False),
]


def seed(apps, schema_editor):
    ThresholdRule = apps.get_model("indicators", "ThresholdRule")
    for name, kind, yellow, red, params, active in DEFAULT_RULES:
        ThresholdRule.objects.get_or_create(
            name=name,
            kind=kind,
            defaults={
                "yellow": Decimal(yellow),
                "red": Decimal(red),
                "params": params,
                "active": active,
                "critical_factor": Decimal("0.5"),
                "scope": "all",
            },
        )


class Migration(migrations.Migration):
    dependencies = [("indicators", "0002_reference_data")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
