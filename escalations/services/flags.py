"""The flag lifecycle's actions, one service each, all built on ``_transition``.

``_transition`` is the only place that changes a flag's status: it cleans the action's input against its
row of the transition table, locks the flag row, checks the status, role and scope, applies the change,
writes exactly one ``Event`` and schedules notifications after commit. A refused action raises a
``DomainError`` before anything is written.
"""

import datetime as dt
import logging
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from core.errors import ActionForbidden, InvalidInput, TransitionNotAllowed
from core.permissions import Capability, Role, require, scope_of
from indicators.models import Agency, Indicator, Measurement

from .. import deadlines
from ..access import acting_roles, available_actions
from ..audit_trail import Verb
from ..lifecycle import OPEN_STATUSES, RAISE_INPUTS, TRANSITIONS, Action, FlagStatus, NoteKind, Urgency
from ..models import Decision, Escalation, Flag, FlagCategory, FlagOrigin, Note, Project
from .events import event_record
from .inputs import clean_inputs
from .notifications import notify_later, notify_owner_later

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# A change receives the flag (locked) and the cleaned input, applies itself and returns the event's data.
Change = Callable[[Flag, dict[str, Any]], dict[str, Any]]
logger = logging.getLogger(__name__)


def _lock(flag_id: int) -> Flag:
    # SELECT … FOR UPDATE: concurrent actions on one flag queue here and each re-reads the status the
    # previous one left, so only one of two conflicting actions can succeed.
    return Flag.objects.select_for_update(of=("self",)).select_related("indicator__agency").get(pk=flag_id)


def _transition(
    *,
    flag: Flag,
    actor: "User | None",
    action: Action,
    inputs: Mapping[str, Any] | None = None,
    change: Change | None = None,
    system: str = "",
) -> Flag:
    """Perform ``action`` on ``flag`` for ``actor`` (``None`` with a ``system`` label for Percolate itself).

    Returns the updated flag. Raises ``InvalidInput`` (input), ``TransitionNotAllowed`` (status) or
    ``ActionForbidden`` (role or scope) without writing anything. Without ``change`` the event records the
    cleaned input."""
    transition = TRANSITIONS[action]
    data = clean_inputs(transition.inputs, inputs or {})
    with transaction.atomic():
        flag = _lock(flag.pk)
        if flag.status not in transition.allowed:
            raise TransitionNotAllowed(
                f"A flag that is {flag.get_status_display().lower()} cannot be given the action "
                f"“{action.label.lower()}”.",
                status=flag.status,
                available=available_actions(actor, flag) if actor is not None else [],
            )
        if actor is not None and not acting_roles(actor, flag, action):
            raise ActionForbidden(f"You may not {action.label.lower()} this flag.")
        from_status = flag.status
        recorded = change(flag, data) if change else data
        if transition.target is not None:
            flag.status = transition.target
        if flag.status != from_status:
            _enter_status(flag, from_status)
        flag.save()
        event = event_record(
            verb=transition.verb,
            actor=actor,
            actor_label=system,
            flag=flag,
            project=flag.project if action == Action.CONVERT else None,
            from_status=from_status,
            to_status=flag.status,
            data=recorded,
        )
        notify_later(event)
        if action == Action.CONVERT and recorded.get("owner"):
            notify_owner_later(event)  # a new project given to its owner
    # The structured log line of the action (the JSON formatter adds the request id and the user).
    logger.info("%s flag #%s: %s", action.value, flag.pk, from_status, extra={"action": action.value, "flag": flag.pk})
    return flag


def _enter_status(flag: Flag, from_status: str) -> None:
    """Bookkeeping of a status change: closing time, and the deadline of the new step. A new step starts
    a new clock, so a flag marked overdue stops being overdue once somebody moves it on."""
    now = timezone.now()
    flag.closed_at = None if flag.status in OPEN_STATUSES else now
    flag.due_at = deadlines.due_at_for(status=flag.status, severity=flag.severity, since=now)
    flag.overdue_at = None


def _no_other_open_case(indicator_id: int, category: str, but: int | None = None) -> None:
    """Refuse when the indicator already has an open case of the category: there is one case to work."""
    others = Flag.objects.filter(indicator_id=indicator_id, category=category, status__in=OPEN_STATUSES)
    if but is not None:
        others = others.exclude(pk=but)
    other = others.values_list("pk", "status").first()
    if other is not None:
        raise TransitionNotAllowed(
            f"Case #{other[0]} is open for this indicator; work that one instead (add a note, set its severity).",
            status=other[1],
        )


def flag_raise(
    *,
    indicator: Indicator,
    actor: "User",
    severity: str,
    summary: str,
    period: dt.date | None = None,
    value: Decimal | None = None,
) -> Flag:
    """Raise a case by hand (no rule): status ``detected``, origin ``manual``, severity pinned, about
    ``period`` (default: the indicator's latest measured period) and ``value`` (default: the value measured
    for that period; a period without one needs the value given). Writes ``flag.created``. Liaisons of the
    indicator's agency and ops leads may; refused (409) while the indicator has an open performance case. Not
    idempotent: each call raises a new case."""
    values = {"severity": severity, "summary": summary, "period": period, "value": value}
    data = clean_inputs(RAISE_INPUTS, values)
    require(actor, Capability.RAISE_FLAGS, agency=indicator.agency)
    _no_other_open_case(indicator.pk, FlagCategory.PERFORMANCE)
    data["period"], data["value"] = _about(indicator, data["period"], data["value"])
    now = timezone.now()
    with transaction.atomic():
        flag = Flag.objects.create(
            indicator=indicator,
            origin=FlagOrigin.MANUAL,
            severity=data["severity"],
            severity_pinned=True,
            summary=data["summary"],
            period=data["period"],
            value=data["value"],
            detected_at=now,
            due_at=deadlines.due_at_for(status=FlagStatus.DETECTED, severity=data["severity"], since=now),
        )
        event = event_record(verb=Verb.FLAG_CREATED, actor=actor, flag=flag, to_status=flag.status, data=data)
        notify_later(event)
    return flag


def _about(
    indicator: Indicator, period: dt.date | None, value: Decimal | None
) -> tuple[dt.date | None, Decimal | None]:
    """The period and value a case raised by hand is about, defaults filled in from the series (an indicator
    with no measurement yet: neither, unless given)."""
    measurements = Measurement.objects.filter(indicator=indicator)
    if period is None:
        period = measurements.order_by("-period").values_list("period", flat=True).first()
    if value is None and period is not None:
        value = measurements.filter(period=period).values_list("value", flat=True).first()
        if value is None:
            raise InvalidInput({"value": f"Nothing was measured for {period:%Y-%m-%d}: give the value it is about."})
    return period, value


def flag_review(*, flag: Flag, actor: "User") -> Flag:
    """detected → in_review. Assigns the actor when nobody is assigned. Writes ``flag.reviewed``."""

    def change(flag: Flag, data: dict[str, Any]) -> dict[str, Any]:
        if flag.assignee_id is None:
            flag.assignee = actor
            return {"assignee": actor.get_username()}
        return {}

    return _transition(flag=flag, actor=actor, action=Action.REVIEW, change=change)


def flag_assign(*, flag: Flag, actor: "User", assignee: "User") -> Flag:
    """Any open status, status unchanged (ops lead). The assignee must be able to work the flag: a liaison
    of its agency or an ops lead. Writes ``flag.assigned`` with the old and new assignee."""

    def change(flag: Flag, data: dict[str, Any]) -> dict[str, Any]:
        scope = scope_of(assignee)
        if not any(scope.covers(role, flag.indicator.agency) for role in (Role.LIAISON, Role.OPS_LEAD)):
            raise InvalidInput({"assignee": f"{assignee.get_username()} is not a liaison of this flag's agency."})
        old = flag.assignee.get_username() if flag.assignee is not None else None
        flag.assignee = assignee
        return {"old": old, "new": assignee.get_username()}

    return _transition(flag=flag, actor=actor, action=Action.ASSIGN, inputs={"assignee": assignee}, change=change)


def flag_set_severity(*, flag: Flag, actor: "User", severity: str, reason: str) -> Flag:
    """Any open status, status unchanged. Pins the severity so that redetection no longer changes it.
    Writes ``flag.severity_set`` with old, new and the reason."""

    def change(flag: Flag, data: dict[str, Any]) -> dict[str, Any]:
        old = flag.severity
        flag.severity = data["severity"]
        flag.severity_pinned = True
        if flag.status == FlagStatus.DETECTED:  # a red flag must be reviewed sooner
            flag.due_at = deadlines.due_at_for(status=flag.status, severity=flag.severity, since=flag.detected_at)
        return {"old": old, "new": flag.severity, "reason": data["reason"]}

    inputs = {"severity": severity, "reason": reason}
    return _transition(flag=flag, actor=actor, action=Action.SET_SEVERITY, inputs=inputs, change=change)


def flag_monitor(*, flag: Flag, actor: "User", until: dt.date, reason: str) -> Flag:
    """in_review → monitoring until a future date. Writes ``flag.monitored``; the monitoring task resumes
    the flag when the date passes."""

    def change(flag: Flag, data: dict[str, Any]) -> dict[str, Any]:
        flag.monitor_until = data["until"]
        return data

    inputs = {"until": until, "reason": reason}
    return _transition(flag=flag, actor=actor, action=Action.MONITOR, inputs=inputs, change=change)


def flag_resume(
    *, flag: Flag, actor: "User | None" = None, system: str = "", reason: str = "", detail: dict[str, Any] | None = None
) -> Flag:
    """monitoring → in_review, by a person or by Percolate (``actor=None`` with a ``system`` label, when
    ``monitor_until`` passes or a check finds news: ``reason`` in words, ``detail`` the signals it measured).
    Writes ``flag.resumed``."""

    def change(flag: Flag, data: dict[str, Any]) -> dict[str, Any]:
        until = flag.monitor_until
        flag.monitor_until = None
        recorded = {"monitor_until": until, "reason": data["reason"]} if data["reason"] else {"monitor_until": until}
        return recorded | (detail or {})

    inputs = {"reason": reason}
    return _transition(flag=flag, actor=actor, action=Action.RESUME, inputs=inputs, change=change, system=system)


def flag_dismiss(*, flag: Flag, actor: "User", reason_code: str, note: str) -> Flag:
    """detected, in_review or monitoring → dismissed, with a reason code and a note. Writes
    ``flag.dismissed``."""

    def change(flag: Flag, data: dict[str, Any]) -> dict[str, Any]:
        flag.dismiss_reason = data["reason_code"]
        flag.monitor_until = None
        return data

    inputs = {"reason_code": reason_code, "note": note}
    return _transition(flag=flag, actor=actor, action=Action.DISMISS, inputs=inputs, change=change)


def flag_escalate(
    *, flag: Flag, actor: "User", summary: str, recommendation: str, urgency: str = Urgency.ROUTINE
) -> Flag:
    """in_review or monitoring → escalated to the deputy mayor of the agency's portfolio. Creates the
    ``Escalation`` (with the agency intelligence noted so far) and writes ``flag.escalated``; the portfolio's
    office is notified after commit."""

    def change(flag: Flag, data: dict[str, Any]) -> dict[str, Any]:
        portfolio = flag.indicator.agency.portfolio
        intelligence = "\n\n".join(
            note.body for note in flag.notes.filter(kind=NoteKind.AGENCY_INTEL).order_by("created_at")
        )
        escalation = Escalation.objects.create(
            flag=flag,
            portfolio=portfolio,
            escalated_by=actor,
            escalated_at=timezone.now(),
            agency_intelligence=intelligence,
            **data,
        )
        flag.monitor_until = None
        return {"escalation": escalation.pk, "portfolio": portfolio.code if portfolio else None, **data}

    inputs = {"summary": summary, "recommendation": recommendation, "urgency": urgency}
    return _transition(flag=flag, actor=actor, action=Action.ESCALATE, inputs=inputs, change=change)


def _decide(flag: Flag, actor: "User", decision: Decision, note: str) -> int | None:
    """Record the deputy mayor's decision on the escalation awaiting one; returns its id."""
    escalation = flag.escalations.filter(decision="").order_by("-escalated_at").first()
    if escalation is None:
        return None
    escalation.decision = decision
    escalation.decided_by = actor
    escalation.decided_at = timezone.now()
    escalation.decision_note = note
    escalation.save(update_fields=["decision", "decided_by", "decided_at", "decision_note"])
    return escalation.pk


def flag_return(*, flag: Flag, actor: "User", question: str) -> Flag:
    """escalated → in_review, with the deputy mayor's question (kept as a ``question`` note too, for the
    liaison to answer). Writes ``flag.returned``; the liaison who escalated is notified."""

    def change(flag: Flag, data: dict[str, Any]) -> dict[str, Any]:
        escalation = _decide(flag, actor, Decision.RETURNED, data["question"])
        Note.objects.create(flag=flag, author=actor, kind=NoteKind.QUESTION, body=data["question"])
        return {"escalation": escalation, **data}

    return _transition(flag=flag, actor=actor, action=Action.RETURN, inputs={"question": question}, change=change)


def flag_delegate(*, flag: Flag, actor: "User", note: str) -> Flag:
    """escalated → agency_managed: the deputy mayor's office handles it with the agency. Writes
    ``flag.delegated``."""

    def change(flag: Flag, data: dict[str, Any]) -> dict[str, Any]:
        return {"escalation": _decide(flag, actor, Decision.AGENCY_MANAGED, data["note"]), **data}

    return _transition(flag=flag, actor=actor, action=Action.DELEGATE, inputs={"note": note}, change=change)


def flag_convert(
    *,
    flag: Flag,
    actor: "User",
    project: Project | None = None,
    title: str = "",
    owner: "User | None" = None,
    agencies: list[Agency] | tuple[Agency, ...] = (),
    description: str = "",
) -> Flag:
    """in_review (ops lead) or escalated (deputy mayor, ops lead) → project: links the flag to an existing
    open project, or creates a new one (title, optional owner and agencies; the flag's agency is always
    one). Writes one event, ``flag.converted``, naming the project; a new project's owner is told it is theirs."""
    from .projects import project_is_open, validate_owner

    title = (title or "").strip()
    if project is None and not title:
        raise InvalidInput({"title": "Give an existing project or a new project's title."})
    if project is not None and title:
        raise InvalidInput({"project": "Give an existing project or a new title, not both."})
    if project is not None and not project_is_open(project):
        raise InvalidInput({"project": f"Project “{project.title}” is {project.get_status_display().lower()}."})
    if owner is not None:
        validate_owner(owner)

    def change(flag: Flag, data: dict[str, Any]) -> dict[str, Any]:
        target = data["project"]
        created = target is None
        if created:
            target = Project.objects.create(title=data["title"], description=data["description"], owner=data["owner"])
        target.agencies.add(flag.indicator.agency, *data["agencies"])
        flag.project = target
        escalation = _decide(flag, actor, Decision.PROJECT, f"Project #{target.pk}: {target.title}")
        owner = target.owner.get_username() if created and target.owner else None
        return {
            "project": target.pk,
            "title": target.title,
            "new_project": created,
            "owner": owner,
            "escalation": escalation,
        }

    inputs = {"project": project, "title": title, "owner": owner, "agencies": agencies, "description": description}
    return _transition(flag=flag, actor=actor, action=Action.CONVERT, inputs=inputs, change=change)


def flag_resolve(*, flag: Flag, actor: "User | None", resolution: str, system: str = "") -> Flag:
    """in_review or monitoring (liaison, ops lead), agency_managed (deputy mayor) or project (project
    manager) → resolved. Writes ``flag.resolved``."""

    def change(flag: Flag, data: dict[str, Any]) -> dict[str, Any]:
        flag.resolution = data["resolution"]
        flag.monitor_until = None
        return data

    inputs = {"resolution": resolution}
    return _transition(flag=flag, actor=actor, action=Action.RESOLVE, inputs=inputs, change=change, system=system)


def flag_reopen(*, flag: Flag, actor: "User", reason: str) -> Flag:
    """dismissed or resolved → in_review. Refused while another case of the same indicator and category is
    open (there can be only one). Writes ``flag.reopened``."""

    def change(flag: Flag, data: dict[str, Any]) -> dict[str, Any]:
        _no_other_open_case(flag.indicator_id, flag.category, but=flag.pk)
        old = {"dismiss_reason": flag.dismiss_reason, "resolution": flag.resolution}
        flag.dismiss_reason = ""
        flag.resolution = ""
        return {"reason": data["reason"], "old": old}

    return _transition(flag=flag, actor=actor, action=Action.REOPEN, inputs={"reason": reason}, change=change)


def flag_add_note(*, flag: Flag, actor: "User", body: str, kind: str = NoteKind.NOTE, source: str = "") -> Note:
    """Add a note (any status; liaisons of the agency, ops leads, the portfolio's deputy mayor's office,
    project managers). Writes ``flag.noted``. Notes are never edited or deleted."""
    created: list[Note] = []

    def change(flag: Flag, data: dict[str, Any]) -> dict[str, Any]:
        note = Note.objects.create(flag=flag, author=actor, **data)
        created.append(note)
        return {"note": note.pk, **data}

    inputs = {"body": body, "kind": kind, "source": source}
    _transition(flag=flag, actor=actor, action=Action.NOTE, inputs=inputs, change=change)
    return created[0]


# The service behind each action of the transition table: the API's per-action endpoints, the pages' forms
# and the bulk actions dispatch through this map.
ACTION_SERVICES: dict[Action, Callable[..., object]] = {
    Action.REVIEW: flag_review,
    Action.ASSIGN: flag_assign,
    Action.SET_SEVERITY: flag_set_severity,
    Action.MONITOR: flag_monitor,
    Action.RESUME: flag_resume,
    Action.DISMISS: flag_dismiss,
    Action.ESCALATE: flag_escalate,
    Action.RETURN: flag_return,
    Action.DELEGATE: flag_delegate,
    Action.CONVERT: flag_convert,
    Action.RESOLVE: flag_resolve,
    Action.REOPEN: flag_reopen,
    Action.NOTE: flag_add_note,
}
