"""Reads of the operations pages (rules, check runs, imports). Nothing here depends on who is asking: the
pages check the role, and these tables hold no agency-scoped data."""

from django.db.models import QuerySet

from .models import CheckRun, ImportBatch, ThresholdRule


def rules_all() -> QuerySet[ThresholdRule]:
    return ThresholdRule.objects.select_related("agency", "indicator").order_by("-active", "kind", "name")


def check_runs_recent(limit: int = 100) -> list[CheckRun]:
    return list(CheckRun.objects.select_related("requested_by")[:limit])


def import_batches_recent(limit: int = 20) -> list[ImportBatch]:
    return list(ImportBatch.objects.select_related("imported_by")[:limit])
