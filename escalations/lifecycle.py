"""The flag lifecycle: statuses, actions and the one table of allowed transitions.

This table is the single source of truth. The services enforce it, the API renders it as
``available_actions``, the pages render it as buttons, and the tests enumerate it. To change who may do
what, change a row here.
"""

from dataclasses import dataclass

from django.db import models

from indicators.roles import Role

from .audit import Verb


class FlagStatus(models.TextChoices):
    DETECTED = "detected", "Detected"
    IN_REVIEW = "in_review", "In review"
    MONITORING = "monitoring", "Monitoring"
    ESCALATED = "escalated", "Escalated"
    AGENCY_MANAGED = "agency_managed", "Agency managed"
    PROJECT = "project", "Project"
    DISMISSED = "dismissed", "Dismissed"
    RESOLVED = "resolved", "Resolved"


OPEN_STATUSES = (
    FlagStatus.DETECTED,
    FlagStatus.IN_REVIEW,
    FlagStatus.MONITORING,
    FlagStatus.ESCALATED,
    FlagStatus.AGENCY_MANAGED,
    FlagStatus.PROJECT,
)
CLOSED_STATUSES = (FlagStatus.DISMISSED, FlagStatus.RESOLVED)


class Action(models.TextChoices):
    REVIEW = "review", "Start review"
    ASSIGN = "assign", "Assign"
    SET_SEVERITY = "set_severity", "Set severity"
    MONITOR = "monitor", "Monitor"
    RESUME = "resume", "Resume review"
    DISMISS = "dismiss", "Dismiss"
    ESCALATE = "escalate", "Escalate"
    RETURN = "return", "Return with a question"
    DELEGATE = "delegate", "Delegate to agency"
    CONVERT = "convert", "Convert to project"
    RESOLVE = "resolve", "Resolve"
    REOPEN = "reopen", "Reopen"
    NOTE = "note", "Add note"


@dataclass(frozen=True)
class Transition:
    """One row of the table: from which statuses (and, per status, by which roles) an action may be taken,
    the status it leads to (``None``: the status stays), the audit verb it writes and the input it needs."""

    action: Action
    allowed: dict[FlagStatus, frozenset[Role]]
    target: FlagStatus | None
    verb: str
    required: tuple[str, ...] = ()

    @property
    def sources(self) -> frozenset[FlagStatus]:
        return frozenset(self.allowed)


LIAISONS = frozenset({Role.LIAISON, Role.OPS_LEAD})
LEAD = frozenset({Role.OPS_LEAD})
DEPUTY = frozenset({Role.DEPUTY_MAYOR})
DEPUTY_OR_LEAD = frozenset({Role.DEPUTY_MAYOR, Role.OPS_LEAD})
PROJECT_MANAGER = frozenset({Role.PROJECT_MANAGER})
# Notes may be added by anyone who works a flag: the agency's liaisons, ops leads, the deputy mayor's office
# and the project managers.
WORKERS = frozenset({Role.LIAISON, Role.OPS_LEAD, Role.DEPUTY_MAYOR, Role.PROJECT_MANAGER})


def _from(statuses, roles) -> dict[FlagStatus, frozenset[Role]]:
    return {status: roles for status in statuses}


TRANSITIONS: dict[Action, Transition] = {
    t.action: t
    for t in [
        Transition(Action.REVIEW, _from([FlagStatus.DETECTED], LIAISONS), FlagStatus.IN_REVIEW, Verb.FLAG_REVIEWED),
        Transition(Action.ASSIGN, _from(OPEN_STATUSES, LEAD), None, Verb.FLAG_ASSIGNED, ("assignee",)),
        Transition(
            Action.SET_SEVERITY,
            _from(OPEN_STATUSES, LIAISONS),
            None,
            Verb.FLAG_SEVERITY_SET,
            ("severity", "reason"),
        ),
        Transition(
            Action.MONITOR,
            _from([FlagStatus.IN_REVIEW], LIAISONS),
            FlagStatus.MONITORING,
            Verb.FLAG_MONITORED,
            ("until", "reason"),
        ),
        Transition(Action.RESUME, _from([FlagStatus.MONITORING], LIAISONS), FlagStatus.IN_REVIEW, Verb.FLAG_RESUMED),
        Transition(
            Action.DISMISS,
            _from([FlagStatus.DETECTED, FlagStatus.IN_REVIEW, FlagStatus.MONITORING], LIAISONS),
            FlagStatus.DISMISSED,
            Verb.FLAG_DISMISSED,
            ("reason_code", "note"),
        ),
        Transition(
            Action.ESCALATE,
            _from([FlagStatus.IN_REVIEW, FlagStatus.MONITORING], LIAISONS),
            FlagStatus.ESCALATED,
            Verb.FLAG_ESCALATED,
            ("summary", "recommendation"),
        ),
        Transition(
            Action.RETURN,
            _from([FlagStatus.ESCALATED], DEPUTY),
            FlagStatus.IN_REVIEW,
            Verb.FLAG_RETURNED,
            ("question",),
        ),
        Transition(
            Action.DELEGATE,
            _from([FlagStatus.ESCALATED], DEPUTY),
            FlagStatus.AGENCY_MANAGED,
            Verb.FLAG_DELEGATED,
            ("note",),
        ),
        Transition(
            Action.CONVERT,
            {FlagStatus.IN_REVIEW: LEAD, FlagStatus.ESCALATED: DEPUTY_OR_LEAD},
            FlagStatus.PROJECT,
            Verb.FLAG_CONVERTED,
        ),
        Transition(
            Action.RESOLVE,
            {
                FlagStatus.IN_REVIEW: LIAISONS,
                FlagStatus.MONITORING: LIAISONS,
                FlagStatus.AGENCY_MANAGED: DEPUTY,
                FlagStatus.PROJECT: PROJECT_MANAGER,
            },
            FlagStatus.RESOLVED,
            Verb.FLAG_RESOLVED,
            ("resolution",),
        ),
        Transition(
            Action.REOPEN,
            _from(CLOSED_STATUSES, LIAISONS),
            FlagStatus.IN_REVIEW,
            Verb.FLAG_REOPENED,
            ("reason",),
        ),
        Transition(Action.NOTE, _from(FlagStatus, WORKERS), None, Verb.FLAG_NOTED, ("body",)),
    ]
}


class Severity(models.TextChoices):
    RED = "red", "Red"
    YELLOW = "yellow", "Yellow"


class DismissReason(models.TextChoices):
    DATA_ERROR = "data_error", "Data error"
    EXPECTED_SEASONAL = "expected_seasonal", "Expected (seasonal)"
    EXPLAINED_BY_AGENCY = "explained_by_agency", "Explained by the agency"
    BELOW_MATERIALITY = "below_materiality", "Below materiality"
    DUPLICATE = "duplicate", "Duplicate"
    OTHER = "other", "Other"
