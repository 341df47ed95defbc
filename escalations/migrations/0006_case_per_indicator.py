"""Cases and signals, step 3: one open case per indicator and category; the per-rule columns, now kept by the
signals, go."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("escalations", "0005_flags_become_cases")]

    operations = [
        migrations.RemoveConstraint(model_name="flag", name="flag_one_open_per_indicator_rule"),
        migrations.RemoveConstraint(model_name="flag", name="flag_automated_has_rule"),
        migrations.RemoveField(model_name="flag", name="baseline"),
        migrations.RemoveField(model_name="flag", name="change"),
        migrations.RemoveField(model_name="flag", name="detection_count"),
        migrations.RemoveField(model_name="flag", name="last_detected_at"),
        migrations.RemoveField(model_name="flag", name="period"),
        migrations.RemoveField(model_name="flag", name="rule"),
        migrations.RemoveField(model_name="flag", name="value"),
        migrations.RemoveField(model_name="flag", name="worse_by"),
        migrations.AddConstraint(
            model_name="flag",
            constraint=models.UniqueConstraint(
                condition=models.Q(
                    ("status__in", ("detected", "in_review", "monitoring", "escalated", "agency_managed", "project"))
                ),
                fields=("indicator", "category"),
                name="flag_one_open_case_per_indicator_category",
            ),
        ),
    ]
