"""The default rules chosen on the signal benchmark (``benchmarks/bench_signal.py``; the figures are in
``benchmarks/README.md``): two unusual-change rules replace the plain year-over-year slip, the control limits
and the sustained decline, and a target is missed at 10 % (yellow) / 20 % (red). A data migration of its own, so
that going back runs in a transaction without the schema changes of 0008."""

from django.db import migrations

# The defaults chosen on the signal benchmark (benchmarks/bench_signal.py; figures in benchmarks/README.md).
# A rule a person has edited since it was seeded is left as it is.
OLD_DEFAULTS = {
    # name: (kind, yellow, red) as seeded by 0003
    "Year-over-year slip": ("year_over_year", "5", "10"),
    "Outside control limits": ("control_limit", "2", "3"),
    "Sustained decline": ("sustained", "3", "5"),
}
NEW_RULES = [
    # name, yellow %, red %, params, critical factor
    (
        "Unusual change on a year earlier",
        "5",
        "10",
        {"years": 1, "recent_months": 3, "window": 36, "min_points": 3, "sigma_yellow": 2, "sigma_red": 3},
        "0.75",
    ),
    (
        "Unusual change on two years earlier",
        "10",
        "20",
        {"years": 2, "recent_months": 3, "window": 36, "min_points": 3, "sigma_yellow": 3.5, "sigma_red": 4.5},
        "0.75",
    ),
]


def seed(apps, schema_editor):
    from decimal import Decimal

    ThresholdRule = apps.get_model("indicators", "ThresholdRule")
    for name, (kind, yellow, red) in OLD_DEFAULTS.items():
        ThresholdRule.objects.filter(
            name=name, kind=kind, yellow=Decimal(yellow), red=Decimal(red), scope="all"
        ).update(active=False)
    ThresholdRule.objects.filter(
        name="Target missed", kind="target", yellow=Decimal(0), red=Decimal(10), scope="all"
    ).update(yellow=Decimal(10), red=Decimal(20))
    for name, yellow, red, params, factor in NEW_RULES:
        ThresholdRule.objects.get_or_create(
            name=name,
            kind="unusual_change",
            defaults={
                "yellow": Decimal(yellow),
                "red": Decimal(red),
                "params": params,
                "critical_factor": Decimal(factor),
                "scope": "all",
                # A projection from four months of data is not evidence enough for red.
                "preliminary": "cap",
                "active": True,
            },
        )


def unseed(apps, schema_editor):
    """Going back: the kind no longer exists, so its rules go (a rule that signals refer to stops this, as it
    should), and the previous defaults are back."""
    from decimal import Decimal

    ThresholdRule = apps.get_model("indicators", "ThresholdRule")
    # Plain SQL: the model's delete would look for the rules' signals, whose table is gone by now.
    schema_editor.execute("DELETE FROM indicators_thresholdrule WHERE kind = 'unusual_change'")
    for name, (kind, _yellow, _red) in OLD_DEFAULTS.items():
        ThresholdRule.objects.filter(name=name, kind=kind, scope="all").update(active=True)
    ThresholdRule.objects.filter(
        name="Target missed", kind="target", yellow=Decimal(10), red=Decimal(20), scope="all"
    ).update(yellow=Decimal(0), red=Decimal(10))


class Migration(migrations.Migration):
    dependencies = [("indicators", "0008_unusual_change_rules")]

    operations = [migrations.RunPython(seed, unseed)]
