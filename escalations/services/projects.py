"""Projects made from flags, and their milestones. Project managers and ops leads run them; completing a
project resolves every flag still attached to it, each with its own ``flag.resolved`` event."""

import datetime as dt

from django.db import transaction
from django.utils import timezone

from indicators.models import Agency
from indicators.roles import Role, roles_of

from ..audit import Verb
from ..errors import ActionForbidden, InvalidInput, TransitionNotAllowed
from ..lifecycle import FlagStatus
from ..models import Milestone, Project, ProjectStatus
from .events import event_record
from .notify import notify_after_commit

PROJECT_ROLES = frozenset({Role.PROJECT_MANAGER, Role.OPS_LEAD})

# The allowed status changes of a project. Completed and cancelled projects are final.
PROJECT_TRANSITIONS: dict[str, frozenset[str]] = {
    ProjectStatus.PROPOSED: frozenset({ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD, ProjectStatus.CANCELLED}),
    ProjectStatus.ACTIVE: frozenset({ProjectStatus.ON_HOLD, ProjectStatus.COMPLETED, ProjectStatus.CANCELLED}),
    ProjectStatus.ON_HOLD: frozenset({ProjectStatus.ACTIVE, ProjectStatus.COMPLETED, ProjectStatus.CANCELLED}),
    ProjectStatus.COMPLETED: frozenset(),
    ProjectStatus.CANCELLED: frozenset(),
}
EDITABLE_FIELDS = ("title", "description", "owner", "start_date", "target_date", "outcome")


def project_is_open(project: Project) -> bool:
    return project.status not in (ProjectStatus.COMPLETED, ProjectStatus.CANCELLED)


def validate_owner(owner) -> None:
    if Role.PROJECT_MANAGER not in roles_of(owner):
        raise InvalidInput({"owner": f"{owner.get_username()} is not a project manager."})


def _check_actor(actor) -> None:
    if not (roles_of(actor) & PROJECT_ROLES):
        raise ActionForbidden("Only project managers and ops leads run projects.")


def _validate_dates(start_date, target_date) -> None:
    if start_date and target_date and target_date < start_date:
        raise InvalidInput({"target_date": "Must not be before the start date."})


def project_create(
    *,
    actor,
    title: str,
    description: str = "",
    owner=None,
    agencies: list[Agency] | tuple = (),
    start_date: dt.date | None = None,
    target_date: dt.date | None = None,
) -> Project:
    """Create a project (status ``proposed``). Writes ``project.created``; the owner is notified."""
    _check_actor(actor)
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
            data={"title": title, "owner": owner.get_username() if owner else None, "agencies": [a.code for a in agencies]},
        )
        notify_after_commit(event)
    return project


def _display(value):
    if hasattr(value, "get_username"):
        return value.get_username()
    return value


def project_update(*, project: Project, actor, status: str | None = None, agencies=None, **changes) -> Project:
    """Change a project's fields and/or status. Completing needs an outcome and resolves the project's open
    flags (``flag.resolved`` each, system actor labelled with the project); the project writes one event:
    ``project.completed``, ``project.cancelled`` or ``project.updated`` with old and new values. A call
    that changes nothing writes nothing."""
    _check_actor(actor)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise InvalidInput({name: "This field cannot be changed." for name in sorted(unknown)})
    if "title" in changes and not (changes["title"] or "").strip():
        raise InvalidInput({"title": "This field is required."})
    if changes.get("owner") is not None:
        validate_owner(changes["owner"])
    if status is not None and status not in ProjectStatus.values:
        raise InvalidInput({"status": f"Must be one of {', '.join(ProjectStatus.values)}."})

    from .flags import flag_resolve

    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        from_status = project.status
        _validate_dates(changes.get("start_date", project.start_date), changes.get("target_date", project.target_date))
        diff = {}
        for name, value in changes.items():
            old = getattr(project, name)
            if old != value:
                diff[name] = {"old": _display(old), "new": _display(value)}
                setattr(project, name, value)
        if agencies is not None:
            old_codes = sorted(project.agencies.values_list("code", flat=True))
            new_codes = sorted(a.code for a in agencies)
            if old_codes != new_codes:
                diff["agencies"] = {"old": old_codes, "new": new_codes}
                project.agencies.set(agencies)
        if status is not None and status != from_status:
            if status not in PROJECT_TRANSITIONS[from_status]:
                raise TransitionNotAllowed(
                    f"A {project.get_status_display().lower()} project cannot become {ProjectStatus(status).label.lower()}.",
                    status=from_status,
                    available=sorted(PROJECT_TRANSITIONS[from_status]),
                )
            if status == ProjectStatus.COMPLETED and not (project.outcome or "").strip():
                raise InvalidInput({"outcome": "Say what the project achieved before completing it."})
            project.status = status
        if not diff and project.status == from_status:
            return project
        verb = {
            ProjectStatus.COMPLETED: Verb.PROJECT_COMPLETED,
            ProjectStatus.CANCELLED: Verb.PROJECT_CANCELLED,
        }.get(project.status if project.status != from_status else None, Verb.PROJECT_UPDATED)
        if project.status == ProjectStatus.COMPLETED and from_status != ProjectStatus.COMPLETED:
            project.completed_at = timezone.now()
        project.save()
        event = event_record(
            verb=verb,
            actor=actor,
            project=project,
            from_status=from_status,
            to_status=project.status,
            data={"changes": diff},
        )
        notify_after_commit(event)
        if verb == Verb.PROJECT_COMPLETED:
            for flag in project.flags.filter(status=FlagStatus.PROJECT).order_by("pk"):
                flag_resolve(
                    flag=flag,
                    actor=None,
                    system=f"project #{project.pk} completed by {actor.get_username()}",
                    resolution=f"Project “{project.title}” completed: {project.outcome}",
                )
    return project


def milestone_add(*, project: Project, actor, title: str, due: dt.date | None = None) -> Milestone:
    """Add a milestone to an open project. Writes ``project.milestone_added``."""
    _check_actor(actor)
    title = (title or "").strip()
    if not title:
        raise InvalidInput({"title": "This field is required."})
    with transaction.atomic():
        project = Project.objects.select_for_update().get(pk=project.pk)
        if not project_is_open(project):
            raise TransitionNotAllowed(
                f"The project is {project.get_status_display().lower()}.", status=project.status
            )
        milestone = Milestone.objects.create(project=project, title=title, due=due)
        event_record(
            verb=Verb.MILESTONE_ADDED,
            actor=actor,
            project=project,
            data={"milestone": milestone.pk, "title": title, "due": due},
        )
    return milestone


def milestone_complete(*, milestone: Milestone, actor) -> Milestone:
    """Mark a milestone done. Writes ``project.milestone_done``; a milestone already done is left as it is
    and writes nothing (safe to repeat)."""
    _check_actor(actor)
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
