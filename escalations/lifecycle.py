"""The lifecycles of flags and projects: statuses, actions, and one table each of allowed transitions with
the input every action takes.

These tables are the single source of truth. The services validate input and enforce status, role and
scope from them; the pages build their action forms, the API its per-action endpoints, request serializers
and OpenAPI schema, and both their bulk actions from them; the tests enumerate them. To change who may do
what, or what an action asks for, change a row here. Adding an action is one row plus its service.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from django.db import models

from core.permissions import GRANTS, Capability, Role

from .audit_trail import Verb


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


class Urgency(models.TextChoices):
    ROUTINE = "routine", "Routine"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class NoteKind(models.TextChoices):
    NOTE = "note", "Note"
    AGENCY_INTEL = "agency_intel", "Agency intelligence"
    QUESTION = "question", "Question"
    ANSWER = "answer", "Answer"


class ProjectStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    ACTIVE = "active", "Active"
    ON_HOLD = "on_hold", "On hold"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class ProjectAction(models.TextChoices):
    START = "start", "Start (make active)"
    HOLD = "hold", "Put on hold"
    COMPLETE = "complete", "Complete project"
    CANCEL = "cancel", "Cancel project"


# ------------------------------------------------------------------------------------------------ inputs


class InputKind(StrEnum):
    TEXT = "text"  # one line
    PARAGRAPH = "paragraph"  # free text over several lines
    CHOICE = "choice"  # one value of ``Input.choices``
    FUTURE_DATE = "future_date"  # a date after today
    PERIOD = "period"  # a period of an indicator's series (its start date)
    NUMBER = "number"  # a value as the series stores them (up to 14 digits before the point, 6 after)
    USER = "user"  # a person, by username; ``Input.users`` says who qualifies
    PROJECT = "project"  # an open project the actor may see, by id
    AGENCIES = "agencies"  # agencies, by code


class Users(StrEnum):
    """Who qualifies for a ``USER`` input (the forms offer exactly them; the service checks)."""

    FLAG_WORKERS = "flag_workers"  # the liaisons of the flag's agency and the ops leads
    PROJECT_MANAGERS = "project_managers"


@dataclass(frozen=True)
class Input:
    """One input of an action: its name (the service's keyword argument, the form field, the JSON key),
    its kind, whether it is required, and what a person reads next to it."""

    name: str
    kind: InputKind
    label: str
    required: bool = True
    help_text: str = ""
    choices: type[models.TextChoices] | None = None
    default: str = ""  # for an optional choice
    max_length: int = 5000
    rows: int = 3
    users: Users | None = None

    @property
    def choice_class(self) -> type[models.TextChoices]:
        """``choices``, which a ``CHOICE`` input must name."""
        if self.choices is None:
            raise TypeError(f"the choice input {self.name} names no choices")
        return self.choices


def _paragraph(name: str, label: str, *, required: bool = True, help_text: str = "", rows: int = 3) -> Input:
    return Input(name, InputKind.PARAGRAPH, label, required=required, help_text=help_text, rows=rows)


# A case raised by hand is not a transition (there is no case yet), but its input is described the same way.
RAISE_INPUTS = (
    Input("severity", InputKind.CHOICE, "Severity", choices=Severity),
    Input("summary", InputKind.PARAGRAPH, "Why this needs attention", help_text="What the thresholds do not catch."),
    Input(
        "period",
        InputKind.PERIOD,
        "Period it is about",
        required=False,
        help_text="The start of the period. Blank: the latest measured period.",
    ),
    Input(
        "value",
        InputKind.NUMBER,
        "Value it is about",
        required=False,
        help_text="Blank: the value measured for that period.",
    ),
)


# ----------------------------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Transition:
    """One row of a table: from which statuses (and, per status, by which roles) an action may be taken,
    the status it leads to (``None``: the status stays), the audit verb it writes and the input it takes."""

    action: str
    label: str
    allowed: dict[str, frozenset[str]]
    target: str | None
    verb: str
    inputs: tuple[Input, ...] = ()

    @property
    def sources(self) -> frozenset[str]:
        return frozenset(self.allowed)

    @property
    def roles(self) -> frozenset[str]:
        """Every role the action is open to in some status."""
        return frozenset().union(*self.allowed.values())


LIAISONS = frozenset({Role.LIAISON, Role.OPS_LEAD})
LEAD = frozenset({Role.OPS_LEAD})
DEPUTY = frozenset({Role.DEPUTY_MAYOR})
DEPUTY_OR_LEAD = frozenset({Role.DEPUTY_MAYOR, Role.OPS_LEAD})
PROJECT_MANAGER = frozenset({Role.PROJECT_MANAGER})
# Notes may be added by anyone who works a flag: the agency's liaisons, ops leads, the deputy mayor's office
# and the project managers.
WORKERS = frozenset({Role.LIAISON, Role.OPS_LEAD, Role.DEPUTY_MAYOR, Role.PROJECT_MANAGER})


def _from(statuses: Iterable[str], roles: frozenset[str]) -> dict[str, frozenset[str]]:
    return dict.fromkeys(statuses, roles)


def _row(
    action: Action, allowed: dict[str, frozenset[str]], target: FlagStatus | None, verb: str, *inputs: Input
) -> Transition:
    return Transition(action, action.label, allowed, target, verb, inputs)


TRANSITIONS: dict[Action, Transition] = {
    Action(t.action): t
    for t in [
        _row(Action.REVIEW, _from([FlagStatus.DETECTED], LIAISONS), FlagStatus.IN_REVIEW, Verb.FLAG_REVIEWED),
        _row(
            Action.ASSIGN,
            _from(OPEN_STATUSES, LEAD),
            None,
            Verb.FLAG_ASSIGNED,
            Input(
                "assignee",
                InputKind.USER,
                "Assign to",
                users=Users.FLAG_WORKERS,
                help_text="A liaison of the flag's agency or an ops lead (username in the API).",
            ),
        ),
        _row(
            Action.SET_SEVERITY,
            _from(OPEN_STATUSES, LIAISONS),
            None,
            Verb.FLAG_SEVERITY_SET,
            Input("severity", InputKind.CHOICE, "Severity", choices=Severity),
            _paragraph("reason", "Reason", help_text="Pins the severity: later detections no longer change it."),
        ),
        _row(
            Action.MONITOR,
            _from([FlagStatus.IN_REVIEW], LIAISONS),
            FlagStatus.MONITORING,
            Verb.FLAG_MONITORED,
            Input(
                "until",
                InputKind.FUTURE_DATE,
                "Monitor until",
                help_text="A date in the future; the case returns to review then.",
            ),
            _paragraph("reason", "Reason"),
        ),
        _row(
            Action.RESUME,
            _from([FlagStatus.MONITORING], LIAISONS),
            FlagStatus.IN_REVIEW,
            Verb.FLAG_RESUMED,
            _paragraph("reason", "Reason", required=False),
        ),
        _row(
            Action.DISMISS,
            _from([FlagStatus.DETECTED, FlagStatus.IN_REVIEW, FlagStatus.MONITORING], LIAISONS),
            FlagStatus.DISMISSED,
            Verb.FLAG_DISMISSED,
            Input("reason_code", InputKind.CHOICE, "Reason", choices=DismissReason),
            _paragraph("note", "Note"),
        ),
        _row(
            Action.ESCALATE,
            _from([FlagStatus.IN_REVIEW, FlagStatus.MONITORING], LIAISONS),
            FlagStatus.ESCALATED,
            Verb.FLAG_ESCALATED,
            _paragraph("summary", "Summary for the deputy mayor", rows=4),
            _paragraph(
                "recommendation",
                "Recommendation",
                help_text="For instance: make it a project; handle with the agency.",
            ),
            Input("urgency", InputKind.CHOICE, "Urgency", required=False, choices=Urgency, default=Urgency.ROUTINE),
        ),
        _row(
            Action.RETURN,
            _from([FlagStatus.ESCALATED], DEPUTY),
            FlagStatus.IN_REVIEW,
            Verb.FLAG_RETURNED,
            _paragraph("question", "Question for the liaison"),
        ),
        _row(
            Action.DELEGATE,
            _from([FlagStatus.ESCALATED], DEPUTY),
            FlagStatus.AGENCY_MANAGED,
            Verb.FLAG_DELEGATED,
            _paragraph("note", "How the office will handle it with the agency"),
        ),
        _row(
            Action.CONVERT,
            {FlagStatus.IN_REVIEW: LEAD, FlagStatus.ESCALATED: DEPUTY_OR_LEAD},
            FlagStatus.PROJECT,
            Verb.FLAG_CONVERTED,
            Input(
                "project",
                InputKind.PROJECT,
                "Add to an existing project",
                required=False,
                help_text="An open project; or leave it out and give a new project's title.",
            ),
            Input("title", InputKind.TEXT, "…or a new project's title", required=False, max_length=300),
            Input(
                "owner",
                InputKind.USER,
                "Owner (project manager)",
                required=False,
                users=Users.PROJECT_MANAGERS,
                help_text="A new project's owner (username in the API).",
            ),
            Input(
                "agencies",
                InputKind.AGENCIES,
                "Other agencies",
                required=False,
                help_text="A new project's agencies besides the flag's own (codes in the API).",
            ),
            Input("description", InputKind.PARAGRAPH, "Description", required=False, max_length=20000),
        ),
        _row(
            Action.RESOLVE,
            {
                FlagStatus.IN_REVIEW: LIAISONS,
                FlagStatus.MONITORING: LIAISONS,
                FlagStatus.AGENCY_MANAGED: DEPUTY,
                FlagStatus.PROJECT: PROJECT_MANAGER,
            },
            FlagStatus.RESOLVED,
            Verb.FLAG_RESOLVED,
            _paragraph("resolution", "Resolution"),
        ),
        _row(
            Action.REOPEN,
            _from(CLOSED_STATUSES, LIAISONS),
            FlagStatus.IN_REVIEW,
            Verb.FLAG_REOPENED,
            _paragraph("reason", "Reason"),
        ),
        _row(
            Action.NOTE,
            _from(FlagStatus, WORKERS),
            None,
            Verb.FLAG_NOTED,
            Input("kind", InputKind.CHOICE, "Kind", required=False, choices=NoteKind, default=NoteKind.NOTE),
            Input("body", InputKind.PARAGRAPH, "Text", max_length=20000, rows=4),
            Input(
                "source",
                InputKind.TEXT,
                "Source",
                required=False,
                max_length=300,
                help_text='Where it comes from, e.g. "call with DSNY chief of staff".',
            ),
        ),
    ]
}


# Projects are run by whoever holds the capability; completed and cancelled projects are final.
PROJECT_RUNNERS = GRANTS[Capability.RUN_PROJECTS].roles
OPEN_PROJECT_STATUSES = (ProjectStatus.PROPOSED, ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD)


def _project_row(
    action: ProjectAction, sources: Iterable[str], target: ProjectStatus, verb: str, *inputs: Input
) -> Transition:
    return Transition(action, action.label, _from(sources, PROJECT_RUNNERS), target, verb, inputs)


PROJECT_TRANSITIONS: dict[ProjectAction, Transition] = {
    ProjectAction(t.action): t
    for t in [
        _project_row(
            ProjectAction.START,
            [ProjectStatus.PROPOSED, ProjectStatus.ON_HOLD],
            ProjectStatus.ACTIVE,
            Verb.PROJECT_UPDATED,
        ),
        _project_row(
            ProjectAction.HOLD,
            [ProjectStatus.PROPOSED, ProjectStatus.ACTIVE],
            ProjectStatus.ON_HOLD,
            Verb.PROJECT_UPDATED,
        ),
        _project_row(
            ProjectAction.COMPLETE,
            [ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD],
            ProjectStatus.COMPLETED,
            Verb.PROJECT_COMPLETED,
            _paragraph("outcome", "Outcome", help_text="What the project achieved; its cases are resolved with it."),
        ),
        _project_row(ProjectAction.CANCEL, OPEN_PROJECT_STATUSES, ProjectStatus.CANCELLED, Verb.PROJECT_CANCELLED),
    ]
}


def project_transition_to(source: str, target: str) -> Transition | None:
    """The row that takes a project from ``source`` to ``target`` (``PATCH {"status": …}``), if any."""
    return next(
        (t for t in PROJECT_TRANSITIONS.values() if t.target == target and source in t.allowed),
        None,
    )
