"""The CSV exports whose rows a page and the API share: the audit log (the audit-log page's export and
``GET /api/v1/events/?format=csv`` write the same columns) and the "what did Operations do" report (its
cases, and its totals per agency and fiscal year). Every export leaves through ``core.csv``."""

from collections.abc import Callable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.http import StreamingHttpResponse

from core.csv import csv_response

from .audit_trail import verb_label
from .case_signals import signal_summary
from .lifecycle import DismissReason
from .models import Event
from .reports import FlagOutcome, Totals

AUDIT_LOG_COLUMNS: dict[str, Callable[[Event], Any]] = {
    "id": lambda e: e.pk,
    "occurred_at": lambda e: e.occurred_at,
    "actor": lambda e: e.actor_name,
    "verb": lambda e: e.verb,
    "verb_label": lambda e: verb_label(e.verb),
    "flag": lambda e: e.flag_id,
    "project": lambda e: e.project_id,
    "indicator": lambda e: e.indicator_id,
    "indicator_external_id": lambda e: e.indicator.external_id if e.indicator is not None else None,
    "agency": lambda e: e.indicator.agency.code if e.indicator is not None else None,
    "from_status": lambda e: e.from_status,
    "to_status": lambda e: e.to_status,
    "data": lambda e: e.data,
    "prev_hash": lambda e: e.prev_hash,
    "hash": lambda e: e.hash,
}


def audit_log_csv(events: QuerySet[Event]) -> StreamingHttpResponse:
    """Every event of ``events`` (already filtered and ordered), read a chunk at a time."""
    rows = (
        [column(event) for column in AUDIT_LOG_COLUMNS.values()]
        for event in events.select_related("actor", "indicator__agency").iterator(chunk_size=2000)
    )
    return csv_response("percolate-audit-log.csv", list(AUDIT_LOG_COLUMNS), rows)


REPORT_COLUMNS = [
    "case", "indicator_id", "indicator", "agency", "signals", "severity", "detected_at", "status", "closed_how",
    "actions", "last_action_by", "last_action_at", "baseline", "value", "value_after", "recovered",
]  # fmt: skip


def _report_rows(stories: list[FlagOutcome]) -> Iterator[list[Any]]:
    for story in stories:
        flag, last, lead = story.flag, (story.events[-1] if story.events else None), story.lead
        yield [
            flag.pk,
            flag.indicator.external_id,
            flag.indicator.name,
            flag.indicator.agency.code,
            "; ".join(signal_summary(s) for s in flag.signals.all()) or "raised by a person",
            flag.severity,
            flag.detected_at,
            flag.status,
            story.closed_how,
            len(story.events),
            last.actor_name if last else None,
            last.occurred_at if last else None,
            lead.baseline if lead else None,
            lead.value if lead else None,
            story.value_after,
            {True: "yes", False: "no", None: ""}[story.recovered],
        ]


def operations_report_csv(stories: list[FlagOutcome]) -> StreamingHttpResponse:
    return csv_response("what-operations-did.csv", REPORT_COLUMNS, _report_rows(stories))


TOTALS_COLUMNS = [
    "agency", "agency_name", "fiscal_year", "cases_opened", "reviewed", "dismissed",
    *(f"dismissed_{reason}" for reason in DismissReason.values),
    "escalated", "decided", "converted_to_projects", "projects_completed", "median_days_to_review",
    "median_days_to_decision", "indicators_recovered",
]  # fmt: skip


def _totals_rows(totals: list[Totals]) -> Iterator[list[Any]]:
    for line in totals:
        yield [
            line.agency_code or "all",
            line.agency_name,
            f"FY{line.fiscal_year}" if line.fiscal_year else "all",
            line.opened,
            line.reviewed,
            line.dismissed_total,
            *(line.dismissed[reason] for reason in DismissReason.values),
            line.escalated,
            line.decided,
            line.converted,
            len(line.projects_completed),
            line.median_days_to_review,
            line.median_days_to_decision,
            len(line.indicators_recovered),
        ]


def operations_totals_csv(totals: list[Totals]) -> StreamingHttpResponse:
    """The hearing report's totals: one row per agency and fiscal year, and a last row for them all."""
    return csv_response("what-operations-did-totals.csv", TOTALS_COLUMNS, _totals_rows(totals))
