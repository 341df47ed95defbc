"""A case raised by hand records the period and the value it is about."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("escalations", "0009_saved_views")]

    operations = [
        migrations.AddField(
            model_name="flag",
            name="period",
            field=models.DateField(blank=True, help_text="Raised by hand: the period the case is about.", null=True),
        ),
        migrations.AddField(
            model_name="flag",
            name="value",
            field=models.DecimalField(
                blank=True,
                decimal_places=6,
                help_text="Raised by hand: the value it is about.",
                max_digits=20,
                null=True,
            ),
        ),
    ]
