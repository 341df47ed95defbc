"""Seed the data-quality rules (their flags go to the data-quality queue, not the performance one)."""

from decimal import Decimal

from django.db import migrations

DATA_QUALITY_RULES = [
    # name, kind, yellow, red, params
    # Any percentage above 100 or negative count is red at once: yellow and red are not used.
    ("Impossible value", "impossible_value", "0", "0", {}),
    # A drop of half the value after 3 (yellow) / 6 (red) periods of rising: a cumulative (year-to-date)
    # series reported where a per-period one is expected, resetting every fiscal year.
    ("Saw-tooth (cumulative reset)", "sawtooth", "3", "6", {"drop_pct": 50}),
]


def seed(apps, schema_editor):
    ThresholdRule = apps.get_model("indicators", "ThresholdRule")
    for name, kind, yellow, red, params in DATA_QUALITY_RULES:
        ThresholdRule.objects.get_or_create(
            name=name,
            kind=kind,
            defaults={
                "yellow": Decimal(yellow),
                "red": Decimal(red),
                "params": params,
                "active": True,
                "critical_factor": Decimal("1"),
                "scope": "all",
            },
        )


class Migration(migrations.Migration):
    dependencies = [("indicators", "0004_detection_runs_and_kinds")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
