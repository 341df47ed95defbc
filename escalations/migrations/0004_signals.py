"""Cases and signals, step 1: the ``Signal`` table and the case's new fields (the old per-rule columns stay
until step 3, so step 2 can read them)."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("escalations", "0003_event_append_only"),
        ("indicators", "0007_trust_colour_rules_manual_runs"),
    ]

    operations = [
        migrations.CreateModel(
            name="Signal",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("period", models.DateField()),
                ("value", models.DecimalField(blank=True, decimal_places=6, max_digits=20, null=True)),
                ("baseline", models.DecimalField(blank=True, decimal_places=6, max_digits=20, null=True)),
                (
                    "change",
                    models.DecimalField(
                        blank=True,
                        decimal_places=6,
                        help_text="(value − baseline) / |baseline|.",
                        max_digits=20,
                        null=True,
                    ),
                ),
                (
                    "measure",
                    models.DecimalField(
                        blank=True, decimal_places=6, help_text="How far beyond, in ``unit``.", max_digits=20, null=True
                    ),
                ),
                (
                    "unit",
                    models.CharField(
                        blank=True,
                        choices=[("percent", "%"), ("sigma", "σ"), ("periods", "periods"), ("days", "days")],
                        max_length=8,
                    ),
                ),
                (
                    "yellow",
                    models.DecimalField(
                        blank=True,
                        decimal_places=6,
                        help_text="The yellow threshold that applied.",
                        max_digits=20,
                        null=True,
                    ),
                ),
                (
                    "red",
                    models.DecimalField(
                        blank=True,
                        decimal_places=6,
                        help_text="The red threshold that applied.",
                        max_digits=20,
                        null=True,
                    ),
                ),
                ("severity", models.CharField(choices=[("red", "Red"), ("yellow", "Yellow")], max_length=8)),
                (
                    "preliminary",
                    models.BooleanField(default=False, help_text="The value is preliminary (e.g. a PMMR figure)."),
                ),
                ("first_seen_at", models.DateTimeField()),
                ("last_seen_at", models.DateTimeField()),
                ("cleared_at", models.DateTimeField(blank=True, null=True)),
                (
                    "flag",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE, related_name="signals", to="escalations.flag"
                    ),
                ),
                (
                    "rule",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="signals",
                        to="indicators.thresholdrule",
                    ),
                ),
            ],
            options={
                "ordering": ["flag", "id"],
                "indexes": [models.Index(fields=["rule", "cleared_at"], name="signal_rule_active_idx")],
                "constraints": [
                    models.UniqueConstraint(fields=("flag", "rule"), name="signal_one_per_case_and_rule"),
                    models.CheckConstraint(
                        condition=models.Q(("severity__in", ["red", "yellow"])), name="signal_severity_valid"
                    ),
                ],
            },
        ),
        migrations.AddField(
            model_name="flag",
            name="beyond",
            field=models.DecimalField(blank=True, decimal_places=2, max_digits=6, null=True),
        ),
        migrations.AddField(
            model_name="flag",
            name="reraise_reason",
            field=models.TextField(blank=True, help_text="Why a closed case came back as this one, in words."),
        ),
        migrations.AlterField(
            model_name="flag",
            name="recovered_at",
            field=models.DateTimeField(blank=True, help_text="When every signal of the case cleared.", null=True),
        ),
    ]
