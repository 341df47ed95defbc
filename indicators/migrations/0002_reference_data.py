"""Reference data every installation starts with: the role groups, the deputy mayors' portfolios, the NYC
agencies mapped to them (indicators/data/*.csv) and the UNASSIGNED agency. Safe to re-run."""

import csv
from pathlib import Path

from django.db import migrations

DATA = Path(__file__).resolve().parent.parent / "data"
ROLES = ["liaison", "ops_lead", "deputy_mayor", "project_manager", "auditor", "admin"]


def load(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Portfolio = apps.get_model("indicators", "Portfolio")
    Agency = apps.get_model("indicators", "Agency")
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    with open(DATA / "portfolios.csv", encoding="utf-8", newline="") as handle:
        portfolios = {
            row["code"]: Portfolio.objects.update_or_create(code=row["code"], defaults={"name": row["name"]})[0]
            for row in csv.DictReader(handle)
        }
    with open(DATA / "agencies.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            Agency.objects.update_or_create(
                code=row["code"],
                defaults={
                    "name": row["name"],
                    "budget_number": row["budget_number"],
                    "portfolio": portfolios[row["portfolio"]],
                },
            )
    Agency.objects.get_or_create(code="UNASSIGNED", defaults={"name": "Unassigned"})


class Migration(migrations.Migration):
    dependencies = [("indicators", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
