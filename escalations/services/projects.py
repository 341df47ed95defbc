"""Projects made from flags, and their milestones. Whoever may run projects (``Capability.RUN_PROJECTS``)
runs them; status changes follow ``lifecycle.PROJECT_TRANSITIONS``. Completing a project resolves every flag
still attached to it, each with its own ``flag.resolved`` event."""

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils import timezone

from core.errors import InvalidInput, TransitionNotAllowed
from core.permissions import Capability, Role, has_role, require
from indicators.models import Agency

from ..audit_trail import Verb
from ..lifecycle import (
    OPEN_PROJECT_STATUSES,
    PROJECT_TRANSITIONS,
    FlagStatus,
    ProjectAction,
    ProjectStatus,
    Transition,
    project_transition_to,
)
from ..models import Milestone, Project
from .events import event_record
from .inputs import clean_inputs
from .notifications import notify_later, notify_owner_later

if TYPE_CHECKING:
    from django.contrib.auth.models import User

EDITABLE_FIELDS = ("title", "description", "owner", "start_date", "target_date", "outcome")


def project_is_open(project: Project) -> bool:
    return project.status in OPEN_PROJECT_STATUSES


def validate_owner(owner: "User") -> None:
    if not has_role(owner, Role.PROJECT_MANAGER):
        raise InvalidInput({"owner": f"{owner.get_username()} is not a project manager."})


def _validate_dates(start_date: dt.date | None, target_date: dt.date | None) -> None:
    if start_date and target_date and target_date < start_date:
        raise InvalidInput({"target_date": "Must not be before the start date."})


def project_create(
    *,
    actor: "User",
    title: str,
    description: str = "",
    owner: "User | None" = None,
    agencies: list[Agency] | tuple[Agency, ...] = (),
    start_date: dt.date | None = None,
    target_date: dt.date | None = None,
) -> Project:
    """Create a project (status ``proposed``). Writes ``project.created``; the owner is told the project is
    theirs, the liaisons who escalated its flags that it exists."""
    require(actor, Capability.RUN_PROJECTS)
    title = (title or "").strip()
    if not title:
        raise InvalidInput({"title": "This field is required."})
    if owner is not None:
        validate_owner(owner)
    _validate_dates(start_date, target_date)
    with transaction.atomic():
        project = Project.objects.create(
            title=title, description=description or "", owner=owner, start_date=start_date, target_date=target_date
        )
        project.agencies.set(agencies)
        event = event_record(
            verb=Verb.PROJECT_CREATED,
            actor=actor,
            project=project,
            to_status=project.status,
            data={
                "title": title,
                "owner": owner.get_username() if owner else None,
                "agencies": [a.code for a in agencies],
            },
        )
        notify_later(event)
        if owner is not None:
            notify_owner_later(event)
    return project


def _display(value: Any) -> Any:
    if hasattr(value, "get_username"):
        return value.get_username()
    return value


def _check_changes(changes: dict[str, Any], status: str | None) -> None:
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    if "title" in changes and not (changes["title"] or "").strip():
        raise InvalidInput({"title": "This field is required."})
    if changes.get("owner") is not None:
        validate_owner(changes["owner"])
    if status is not None and status not in ProjectStatus.values:
        raise InvalidInput({"status": f"Must be one of {', '.join(ProjectStatus.values)}."})


def _set_changed(instance: Project | Milestone, changes: dict[str, Any]) -> dict[str, Any]:
    """Set the fields whose new value differs; returns ``{field: {"old", "new"}}`` of those (as the event shows
    them)."""
    diff = {}
    for name, value in changes.items():
        old = getattr(instance, name)
        if old != value:
            diff[name] = {"old": _display(old), "new": _display(value)}
            setattr(instance, name, value)
    return diff


def _apply_changes(project: Project, changes: dict[str, Any], agencies: list[Agency] | None) -> dict[str, Any]:
    """Set the changed fields; returns ``{field: {"old", "new"}}`` of what actually changed."""
    diff = _set_changed(project, changes)
    if agencies is not None:
        old_codes = sorted(project.agencies.values_list("code", flat=True))
        new_codes = sorted(a.code for a in agencies)
        if old_codes != new_codes:
            diff["agencies"] = {"old": old_codes, "new": new_codes}
            project.agencies.set(agencies)
    return diff


def _status_transition(project: Project, status: str | None) -> Transition | None:
    """The row of the project table that moves ``project`` to ``status`` (``None``: no status change), its
    input checked against the project as changed."""
    if status is None or status == project.status:
        return None
    row = project_transition_to(project.status, status)
    if row is None:
        allowed = [t.target for t in PROJECT_TRANSITIONS.values() if project.status in t.allowed]
        raise TransitionNotAllowed(
            f"A {project.get_status_display().lower()} project cannot become {ProjectStatus(status).label.lower()}.",
            status=project.status,
            available=sorted(str(target) for target in allowed),
        )
    clean_inputs(row.inputs, {spec.name: getattr(project, spec.name) for spec in row.inputs})
    return row


def project_update(
    *, project: Project, actor: "User", status: str | None = None, agencies: list[Agency] | None = None, **changes: Any
) -> Project:
    """Change a project's fields and/or status (a row of ``PROJECT_TRANSITIONS``). Completing needs an
    outcome and resolves the project's open flags (``flag.resolved`` each, system actor labelled with the
    project); the project writes one event: ``project.completed``, ``project.cancelled`` or
    ``project.updated`` with old and new values; a new owner is told the project is theirs. A call that changes
    nothing writes nothing."""
    require(actor, Capability.RUN_PROJECTS)
    _check_changes(changes, status)
    from .flags import flag_resolve

    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        from_status = project.status
        _validate_dates(changes.get("start_date", project.start_date), changes.get("target_date", project.target_date))
        diff = _apply_changes(project, changes, agencies)
        row = _status_transition(project, status)
        if not diff and row is None:
            return project
        completing = row is not None and row.target == ProjectStatus.COMPLETED
        if row is not None and row.target is not None:  # a project row always has a target
            project.status = row.target
        if completing:
            project.completed_at = timezone.now()
        project.save()
        event = event_record(
            verb=row.verb if row is not None else Verb.PROJECT_UPDATED,
            actor=actor,
            project=project,
            from_status=from_status,
            to_status=project.status,
            data={"changes": diff},
        )
        notify_later(event)
        if "owner" in diff and project.owner_id:
            notify_owner_later(event)
        if completing:
            for flag in project.flags.filter(status=FlagStatus.PROJECT).order_by("pk"):
                flag_resolve(
                    flag=flag,
                    actor=None,
                    system=f"project #{project.pk} completed by {actor.get_username()}",
                    resolution=f"Project “{project.title}” completed: {project.outcome}",
                )
    return project


def project_act(*, project: Project, actor: "User", action: ProjectAction, **inputs: Any) -> Project:
    """Take one action of the project table (start, hold, complete with its outcome, cancel): the same
    change as ``project_update`` with the row's target status."""
    row = PROJECT_TRANSITIONS[action]
    values = clean_inputs(row.inputs, inputs)
    return project_update(project=project, actor=actor, status=row.target, **values)


MILESTONE_FIELDS = ("title", "due", "owner")


def _milestone_owner(owner: "User | None") -> None:
    if owner is not None and not owner.is_active:
        raise InvalidInput({"owner": f"{owner.get_username()} can no longer sign in."})


def _open_project_locked(project: Project) -> Project:
    """The project, locked; refused (``TransitionNotAllowed``) once it is completed or cancelled: its
    milestones are its record then."""
    project = Project.objects.select_for_update().get(pk=project.pk)
    if not project_is_open(project):
        raise TransitionNotAllowed(f"The project is {project.get_status_display().lower()}.", status=project.status)
    return project


def milestone_add(
    *, project: Project, actor: "User", title: str, due: dt.date | None = None, owner: "User | None" = None
) -> Milestone:
    """Add a milestone (optionally with an owner) to an open project. Writes ``project.milestone_added``."""
    require(actor, Capability.RUN_PROJECTS)
    title = (title or "").strip()
    if not title:
        raise InvalidInput({"title": "This field is required."})
    _milestone_owner(owner)
    with transaction.atomic():
        project = _open_project_locked(project)
        milestone = Milestone.objects.create(project=project, title=title, due=due, owner=owner)
        event_record(
            verb=Verb.MILESTONE_ADDED,
            actor=actor,
            project=project,
            data={"milestone": milestone.pk, "title": title, "due": due, "owner": _display(owner)},
        )
    return milestone


def milestone_update(*, milestone: Milestone, actor: "User", **changes: Any) -> Milestone:
    """Change a milestone's title, due date or owner (an open project's only). Writes one
    ``project.milestone_updated`` with the old and new values; a call that changes nothing writes nothing
    (safe to repeat)."""
    require(actor, Capability.RUN_PROJECTS)
    unknown = set(changes) - set(MILESTONE_FIELDS)
    if unknown:
        raise InvalidInput(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    if "title" in changes:
        changes["title"] = (changes["title"] or "").strip()
        if not changes["title"]:
            raise InvalidInput({"title": "This field is required."})
    _milestone_owner(changes.get("owner"))
    with transaction.atomic():
        milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
        project = _open_project_locked(milestone.project)
        diff = _set_changed(milestone, changes)
        if not diff:
            return milestone
        milestone.save(update_fields=list(diff))
        event_record(
            verb=Verb.MILESTONE_UPDATED,
            actor=actor,
            project=project,
            data={"milestone": milestone.pk, "title": milestone.title, "changes": diff},
        )
    return milestone


def milestone_complete(*, milestone: Milestone, actor: "User") -> Milestone:
    """Mark a milestone done. Writes ``project.milestone_done``; a milestone already done is left as it is
    and writes nothing (safe to repeat)."""
    require(actor, Capability.RUN_PROJECTS)
    with transaction.atomic():
        milestone = Milestone.objects.select_for_update().select_related("project").get(pk=milestone.pk)
        if milestone.done_at is not None:
            return milestone
        milestone.done_at = timezone.now()
        milestone.save(update_fields=["done_at"])
        event_record(
            verb=Verb.MILESTONE_DONE,
            actor=actor,
            project=milestone.project,
            data={"milestone": milestone.pk, "title": milestone.title},
        )
    return milestone
