"""The flag lifecycle's actions, one service each, all built on ``_transition``.

``_transition`` is the only place that changes a flag's status: it locks the flag row, checks the status
against the transition table, checks role and scope, applies the change, writes exactly one ``Event`` and
schedules notifications after commit. A refused action raises a ``DomainError`` before anything is written.
"""

import datetime as dt
import logging
from collections.abc import Callable

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from indicators.models import Indicator
from indicators.roles import Role

from .. import sla
from ..access import acting_roles, available_actions, scope_of
from ..audit import Verb
from ..errors import ActionForbidden, InvalidInput, TransitionNotAllowed
from ..lifecycle import OPEN_STATUSES, TRANSITIONS, Action, DismissReason, FlagStatus, Severity
from ..models import Decision, Escalation, Flag, FlagCategory, FlagOrigin, Note, NoteKind, Project, Urgency
from .events import event_record
from .notify import notify_after_commit

Change = Callable[[Flag], dict]
logger = logging.getLogger(__name__)


def _lock(flag_id: int) -> Flag:
    # SELECT … FOR UPDATE: concurrent actions on one flag queue here and each re-reads the status the
    # previous one left, so only one of two conflicting actions can succeed.
    return Flag.objects.select_for_update(of=("self",)).select_related("indicator__agency").get(pk=flag_id)


def _transition(*, flag: Flag, actor, action: Action, change: Change | None = None, system: str = "") -> Flag:
    """Perform ``action`` on ``flag`` for ``actor`` (``None`` with a ``system`` label for Percolate itself).

    Returns the updated flag. Raises ``TransitionNotAllowed`` (status) or ``ActionForbidden`` (role or
    scope) without writing anything."""
    transition = TRANSITIONS[action]
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
        data = change(flag) if change else {}
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
            data=data,
        )
        notify_after_commit(event)
    # The structured log line of the action (the JSON formatter adds the request id and the user).
    logger.info("%s flag #%s: %s", action.value, flag.pk, from_status, extra={"action": action.value, "flag": flag.pk})
    return flag


def _enter_status(flag: Flag, from_status: str) -> None:
    """Bookkeeping of a status change: closing time, and the deadline of the new step. A new step starts
    a new clock, so a flag marked overdue stops being overdue once somebody moves it on."""
    now = timezone.now()
    flag.closed_at = None if flag.status in OPEN_STATUSES else now
    flag.due_at = sla.due_at_for(status=flag.status, severity=flag.severity, since=now)
    flag.overdue_at = None


def _required(**values) -> None:
    missing = {name: "This field is required." for name, value in values.items() if value in (None, "")}
    if missing:
        raise InvalidInput(missing)


def _text(value) -> str:
    return (value or "").strip() if isinstance(value, str) or value is None else str(value)


def _no_other_open_case(indicator_id: int, category: str, but: int | None = None) -> None:
    """Refuse when the indicator already has an open case of the category: there is one case to work."""
    other = (
        Flag.objects.filter(indicator_id=indicator_id, category=category, status__in=OPEN_STATUSES)
        .exclude(pk=but)
        .values_list("pk", "status")
        .first()
    )
    if other is not None:
        raise TransitionNotAllowed(
            f"Case #{other[0]} is open for this indicator; work that one instead (add a note, set its severity).",
            status=other[1],
        )


def flag_raise(*, indicator: Indicator, actor, severity: str, summary: str) -> Flag:
    """Raise a case by hand (no rule): status ``detected``, origin ``manual``, severity pinned. Writes
    ``flag.created``. Liaisons of the indicator's agency and ops leads may; refused (409) while the indicator
    has an open performance case. Not idempotent: each call raises a new case."""
    summary = _text(summary)
    _required(summary=summary, severity=severity)
    if severity not in Severity.values:
        raise InvalidInput({"severity": f"Must be one of {', '.join(Severity.values)}."})
    scope = scope_of(actor)
    if not any(scope.covers(role, indicator.agency) for role in (Role.LIAISON, Role.OPS_LEAD)):
        raise ActionForbidden("You may raise flags only on indicators of your agencies.")
    _no_other_open_case(indicator.pk, FlagCategory.PERFORMANCE)
    now = timezone.now()
    with transaction.atomic():
        flag = Flag.objects.create(
            indicator=indicator,
            origin=FlagOrigin.MANUAL,
            severity=severity,
            severity_pinned=True,
            summary=summary,
            detected_at=now,
            due_at=sla.due_at_for(status=FlagStatus.DETECTED, severity=severity, since=now),
        )
        event = event_record(
            verb=Verb.FLAG_CREATED,
            actor=actor,
            flag=flag,
            to_status=flag.status,
            data={"severity": severity, "summary": summary},
        )
        notify_after_commit(event)
    return flag


def flag_review(*, flag: Flag, actor) -> Flag:
    """detected → in_review. Assigns the actor when nobody is assigned. Writes ``flag.reviewed``."""

    def change(flag: Flag) -> dict:
        if flag.assignee_id is None:
            flag.assignee = actor
            return {"assignee": actor.get_username()}
        return {}

    return _transition(flag=flag, actor=actor, action=Action.REVIEW, change=change)


def flag_assign(*, flag: Flag, actor, assignee) -> Flag:
    """Any open status, status unchanged (ops lead). The assignee must be able to work the flag: a liaison
    of its agency or an ops lead. Writes ``flag.assigned`` with the old and new assignee."""
    _required(assignee=assignee)
    if not isinstance(assignee, get_user_model()):
        raise InvalidInput({"assignee": "Unknown user."})

    def change(flag: Flag) -> dict:
        scope = scope_of(assignee)
        if not (
            scope.covers(Role.LIAISON, flag.indicator.agency) or scope.covers(Role.OPS_LEAD, flag.indicator.agency)
        ):
            raise InvalidInput({"assignee": f"{assignee.get_username()} is not a liaison of this flag's agency."})
        old = flag.assignee.get_username() if flag.assignee_id else None
        flag.assignee = assignee
        return {"old": old, "new": assignee.get_username()}

    return _transition(flag=flag, actor=actor, action=Action.ASSIGN, change=change)


def flag_set_severity(*, flag: Flag, actor, severity: str, reason: str) -> Flag:
    """Any open status, status unchanged. Pins the severity so that redetection no longer changes it.
    Writes ``flag.severity_set`` with old, new and the reason."""
    reason = _text(reason)
    _required(severity=severity, reason=reason)
    if severity not in Severity.values:
        raise InvalidInput({"severity": f"Must be one of {', '.join(Severity.values)}."})

    def change(flag: Flag) -> dict:
        old = flag.severity
        flag.severity = severity
        flag.severity_pinned = True
        if flag.status == FlagStatus.DETECTED:  # a red flag must be reviewed sooner
            flag.due_at = sla.due_at_for(status=flag.status, severity=severity, since=flag.detected_at)
        return {"old": old, "new": severity, "reason": reason}

    return _transition(flag=flag, actor=actor, action=Action.SET_SEVERITY, change=change)


def flag_monitor(*, flag: Flag, actor, until: dt.date, reason: str) -> Flag:
    """in_review → monitoring until a future date. Writes ``flag.monitored``; the monitoring task resumes
    the flag when the date passes."""
    reason = _text(reason)
    _required(until=until, reason=reason)
    if not isinstance(until, dt.date) or isinstance(until, dt.datetime):
        raise InvalidInput({"until": "Must be a date."})
    if until <= timezone.localdate():
        raise InvalidInput({"until": "Must be a date in the future."})

    def change(flag: Flag) -> dict:
        flag.monitor_until = until
        return {"until": until, "reason": reason}

    return _transition(flag=flag, actor=actor, action=Action.MONITOR, change=change)


def flag_resume(*, flag: Flag, actor=None, system: str = "", reason: str = "", detail: dict | None = None) -> Flag:
    """monitoring → in_review, by a person or by Percolate (``actor=None`` with a ``system`` label, when
    ``monitor_until`` passes or a check finds news: ``reason`` in words, ``detail`` the signals it measured).
    Writes ``flag.resumed``."""

    def change(flag: Flag) -> dict:
        until = flag.monitor_until
        flag.monitor_until = None
        data = {"monitor_until": until, "reason": _text(reason)} if reason else {"monitor_until": until}
        return data | (detail or {})

    return _transition(flag=flag, actor=actor, action=Action.RESUME, change=change, system=system)


def flag_dismiss(*, flag: Flag, actor, reason_code: str, note: str) -> Flag:
    """detected, in_review or monitoring → dismissed, with a reason code and a note. Writes
    ``flag.dismissed``."""
    note = _text(note)
    _required(reason_code=reason_code, note=note)
    if reason_code not in DismissReason.values:
        raise InvalidInput({"reason_code": f"Must be one of {', '.join(DismissReason.values)}."})

    def change(flag: Flag) -> dict:
        flag.dismiss_reason = reason_code
        flag.monitor_until = None
        return {"reason_code": reason_code, "note": note}

    return _transition(flag=flag, actor=actor, action=Action.DISMISS, change=change)


def flag_escalate(*, flag: Flag, actor, summary: str, recommendation: str, urgency: str = Urgency.ROUTINE) -> Flag:
    """in_review or monitoring → escalated to the deputy mayor of the agency's portfolio. Creates the
    ``Escalation`` (with the agency intelligence noted so far) and writes ``flag.escalated``; the portfolio's
    office is notified after commit."""
    summary, recommendation = _text(summary), _text(recommendation)
    urgency = urgency or Urgency.ROUTINE
    _required(summary=summary, recommendation=recommendation)
    if urgency not in Urgency.values:
        raise InvalidInput({"urgency": f"Must be one of {', '.join(Urgency.values)}."})

    def change(flag: Flag) -> dict:
        portfolio = flag.indicator.agency.portfolio
        intelligence = "\n\n".join(
            note.body for note in flag.notes.filter(kind=NoteKind.AGENCY_INTEL).order_by("created_at")
        )
        escalation = Escalation.objects.create(
            flag=flag,
            portfolio=portfolio,
            escalated_by=actor,
            escalated_at=timezone.now(),
            summary=summary,
            agency_intelligence=intelligence,
            recommendation=recommendation,
            urgency=urgency,
        )
        flag.monitor_until = None
        return {
            "escalation": escalation.pk,
            "portfolio": portfolio.code if portfolio else None,
            "summary": summary,
            "recommendation": recommendation,
            "urgency": urgency,
        }

    return _transition(flag=flag, actor=actor, action=Action.ESCALATE, change=change)


def _decide(flag: Flag, actor, decision: Decision, note: str) -> int | None:
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


def flag_return(*, flag: Flag, actor, question: str) -> Flag:
    """escalated → in_review, with the deputy mayor's question (kept as a ``question`` note too, for the
    liaison to answer). Writes ``flag.returned``; the liaison who escalated is notified."""
    question = _text(question)
    _required(question=question)

    def change(flag: Flag) -> dict:
        escalation = _decide(flag, actor, Decision.RETURNED, question)
        Note.objects.create(flag=flag, author=actor, kind=NoteKind.QUESTION, body=question)
        return {"escalation": escalation, "question": question}

    return _transition(flag=flag, actor=actor, action=Action.RETURN, change=change)


def flag_delegate(*, flag: Flag, actor, note: str) -> Flag:
    """escalated → agency_managed: the deputy mayor's office handles it with the agency. Writes
    ``flag.delegated``."""
    note = _text(note)
    _required(note=note)

    def change(flag: Flag) -> dict:
        return {"escalation": _decide(flag, actor, Decision.AGENCY_MANAGED, note), "note": note}

    return _transition(flag=flag, actor=actor, action=Action.DELEGATE, change=change)


def flag_convert(
    *,
    flag: Flag,
    actor,
    project: Project | None = None,
    title: str = "",
    owner=None,
    agencies=(),
    description: str = "",
) -> Flag:
    """in_review (ops lead) or escalated (deputy mayor, ops lead) → project: links the flag to an existing
    open project, or creates a new one (title, optional owner and agencies; the flag's agency is always
    one). Writes one event, ``flag.converted``, naming the project."""
    from .projects import project_is_open, validate_owner

    title = _text(title)
    if project is None and not title:
        raise InvalidInput({"title": "Give an existing project or a new project's title."})
    if project is not None and title:
        raise InvalidInput({"project": "Give an existing project or a new title, not both."})
    if project is not None and not project_is_open(project):
        raise InvalidInput({"project": f"Project “{project.title}” is {project.get_status_display().lower()}."})
    if owner is not None:
        validate_owner(owner)

    def change(flag: Flag) -> dict:
        nonlocal project
        created = project is None
        if created:
            project = Project.objects.create(title=title, description=_text(description), owner=owner)
        project.agencies.add(flag.indicator.agency, *agencies)
        flag.project = project
        escalation = _decide(flag, actor, Decision.PROJECT, f"Project #{project.pk}: {project.title}")
        return {"project": project.pk, "title": project.title, "new_project": created, "escalation": escalation}

    return _transition(flag=flag, actor=actor, action=Action.CONVERT, change=change)


def flag_resolve(*, flag: Flag, actor, resolution: str, system: str = "") -> Flag:
    """in_review or monitoring (liaison, ops lead), agency_managed (deputy mayor) or project (project
    manager) → resolved. Writes ``flag.resolved``."""
    resolution = _text(resolution)
    _required(resolution=resolution)

    def change(flag: Flag) -> dict:
        flag.resolution = resolution
        flag.monitor_until = None
        return {"resolution": resolution}

    return _transition(flag=flag, actor=actor, action=Action.RESOLVE, change=change, system=system)


def flag_reopen(*, flag: Flag, actor, reason: str) -> Flag:
    """dismissed or resolved → in_review. Refused while another case of the same indicator and category is
    open (there can be only one). Writes ``flag.reopened``."""
    reason = _text(reason)
    _required(reason=reason)

    def change(flag: Flag) -> dict:
        _no_other_open_case(flag.indicator_id, flag.category, but=flag.pk)
        old = {"dismiss_reason": flag.dismiss_reason, "resolution": flag.resolution}
        flag.dismiss_reason = ""
        flag.resolution = ""
        return {"reason": reason, "old": old}

    return _transition(flag=flag, actor=actor, action=Action.REOPEN, change=change)


def flag_add_note(*, flag: Flag, actor, body: str, kind: str = NoteKind.NOTE, source: str = "") -> Note:
    """Add a note (any status; liaisons of the agency, ops leads, the portfolio's deputy mayor's office,
    project managers). Writes ``flag.noted``. Notes are never edited or deleted."""
    body = _text(body)
    _required(body=body)
    if kind not in NoteKind.values:
        raise InvalidInput({"kind": f"Must be one of {', '.join(NoteKind.values)}."})
    created: list[Note] = []

    def change(flag: Flag) -> dict:
        note = Note.objects.create(flag=flag, author=actor, kind=kind, body=body, source=_text(source))
        created.append(note)
        return {"note": note.pk, "kind": kind, "body": body, "source": note.source}

    _transition(flag=flag, actor=actor, action=Action.NOTE, change=change)
    return created[0]


# The service behind each action of the transition table: the API's per-action endpoints, the pages' forms
# and bulk actions dispatch through this map.
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
