"""The project board and the pages that run a project: create, edit, the actions of the project table
(start, hold, complete with an outcome — which resolves the project's cases —, cancel), milestones (added,
edited, marked done; the project shows how much of them is done)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from core.errors import DomainError
from core.forms import submit
from core.permissions import Capability, require

from .. import charts, reports, selectors
from ..access import project_actions_available
from ..forms import PROJECT_ACTION_FORMS, MilestoneForm, ProjectForm
from ..lifecycle import ProjectAction, ProjectStatus
from ..models import Milestone, Project
from ..services import (
    milestone_add,
    milestone_complete,
    milestone_update,
    project_act,
    project_create,
    project_update,
)

BOARD_COLUMNS = [ProjectStatus.PROPOSED, ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD, ProjectStatus.COMPLETED]


def _project_or_404(user, pk) -> Project:
    try:
        return selectors.project_get(user, pk)
    except Project.DoesNotExist:
        raise Http404("No such project") from None


def _trend(project, series) -> list:
    """The series of each indicator whose flag the project took on, marked from the project's start, and
    whether the indicator recovered since (against the baseline of the case the project took on)."""
    seen, trends = set(), []
    since = project.start_date or timezone.localdate(project.created_at)
    for flag in project.flags.all():
        indicator = flag.indicator
        if indicator.pk in seen:
            continue
        seen.add(indicator.pk)
        measurements = series.get(indicator.pk, [])
        lead = flag.lead_signal
        recovery = reports.recovery_since(
            indicator=indicator, measurements=measurements, since=since, baseline=lead.baseline if lead else None
        )
        trends.append({"indicator": indicator, "measurements": measurements, "since": since, "recovery": recovery})
    return trends


def milestone_progress(milestones) -> dict:
    """How much of a project is done: its done milestones out of all, and the share in whole percent
    (``None`` without any milestone: nothing to measure, not 0 %)."""
    milestones = list(milestones)
    done = sum(1 for m in milestones if m.done_at)
    percent = round(100 * done / len(milestones)) if milestones else None
    return {"done": done, "total": len(milestones), "percent": percent}


@login_required
def project_board(request):
    projects = list(
        selectors.projects_visible_to(request.user).prefetch_related(
            "flags__indicator__agency", selectors.signals_prefetch("flags__")
        )
    )
    series = selectors.series_by_indicator({f.indicator_id for p in projects for f in p.flags.all()})
    columns = {status: [] for status in BOARD_COLUMNS}
    for project in projects:
        project.trends = _trend(project, series)
        milestones = project.milestones.all()
        project.milestones_done = sum(1 for m in milestones if m.done_at)
        columns.setdefault(project.status, []).append(project)
    return render(
        request,
        "escalations/project_board.html",
        {
            "columns": [(ProjectStatus(status).label, status, items) for status, items in columns.items()],
        },
    )


def _project_action_forms(request, project: Project, bound=None) -> list:
    """The forms of the project table's actions this user may take now (``bound``: a submitted one)."""
    forms = []
    for action in project_actions_available(request.user, project):
        form = (
            bound
            if bound is not None and bound.action == action
            else PROJECT_ACTION_FORMS[action](user=request.user, initial={"outcome": project.outcome})
        )
        form.url = reverse("project_act", args=[project.pk, action.value])
        forms.append(form)
    return forms


@login_required
def project_detail(request, pk: int, action_form=None, milestone_form=None, status: int = 200):
    project = _project_or_404(request.user, pk)
    series = selectors.series_by_indicator({f.indicator_id for f in project.flags.all()})
    trends = _trend(project, series)
    for trend in trends:
        trend["chart"] = charts.series_chart(
            indicator=trend["indicator"], measurements=trend["measurements"], since=trend["since"]
        )
    return render(
        request,
        "escalations/project_detail.html",
        {
            "project": project,
            "trends": trends,
            "action_forms": _project_action_forms(request, project, bound=action_form),
            "open_bound": action_form.action.value if action_form is not None else "",
            "milestone_form": milestone_form or MilestoneForm(),
            "progress": milestone_progress(project.milestones.all()),
            "events": selectors.events_visible_to(request.user).filter(project=project).order_by("id"),
        },
        status=status,
    )


@login_required
def project_create_view(request):
    require(request.user, Capability.RUN_PROJECTS)
    form = ProjectForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status, project = submit(form, lambda: project_create(actor=request.user, **_project_fields(form)))
        if project is not None:
            messages.success(request, f"Project “{project.title}” created.")
            return redirect("project_detail", project.pk)
    return render(request, "escalations/project_form.html", {"form": form, "project": None}, status=status)


@login_required
def project_edit(request, pk: int):
    require(request.user, Capability.RUN_PROJECTS)
    project = _project_or_404(request.user, pk)
    form = ProjectForm(request.POST or None, instance=project)
    status = 200
    if request.method == "POST":
        # Fresh from the database: validating the model form copies the input onto its instance.
        stored = _project_or_404(request.user, pk)
        status, _ = submit(form, lambda: project_update(project=stored, actor=request.user, **_project_fields(form)))
        if status == 200:
            messages.success(request, "Project saved.")
            return redirect("project_detail", project.pk)
    return render(request, "escalations/project_form.html", {"form": form, "project": project}, status=status)


def _project_fields(form: ProjectForm) -> dict:
    """The project form's values as the project services take them."""
    return {**form.cleaned_data, "agencies": list(form.cleaned_data["agencies"])}


@login_required
@require_POST
def project_act_view(request, pk: int, action: str):
    """Submit one action of the project table (start, hold, complete, cancel): the service decides (a role
    that runs no project is refused first, 403)."""
    require(request.user, Capability.RUN_PROJECTS)
    project = _project_or_404(request.user, pk)
    if action not in ProjectAction.values:
        raise Http404("No such action")
    action = ProjectAction(action)
    form = PROJECT_ACTION_FORMS[action](request.POST, user=request.user)
    status, changed = submit(
        form, lambda: project_act(project=project, actor=request.user, action=action, **form.cleaned_data)
    )
    if changed is None:
        return project_detail(request, pk, action_form=form, status=status)
    messages.success(request, f"Project is now {changed.get_status_display().lower()}.")
    return redirect("project_detail", project.pk)


@login_required
@require_POST
def project_milestone_add(request, pk: int):
    require(request.user, Capability.RUN_PROJECTS)
    project = _project_or_404(request.user, pk)
    form = MilestoneForm(request.POST)
    status, _ = submit(form, lambda: milestone_add(project=project, actor=request.user, **form.cleaned_data))
    if status != 200:
        return project_detail(request, pk, milestone_form=form, status=status)
    messages.success(request, "Milestone added.")
    return redirect("project_detail", project.pk)


@login_required
def project_milestone_edit(request, pk: int, milestone_pk: int):
    """Change a milestone's title, due date or owner (one ``project.milestone_updated`` event)."""
    require(request.user, Capability.RUN_PROJECTS)
    project = _project_or_404(request.user, pk)
    milestone = project.milestones.select_related("owner").filter(pk=milestone_pk).first()
    if milestone is None:
        raise Http404("No such milestone")
    current = {"title": milestone.title, "due": milestone.due, "owner": milestone.owner}
    form = MilestoneForm(request.POST or None, initial=current)
    status = 200
    if request.method == "POST":
        status, _ = submit(form, lambda: milestone_update(milestone=milestone, actor=request.user, **form.cleaned_data))
        if status == 200:
            messages.success(request, f"Milestone “{form.cleaned_data['title']}” saved.")
            return redirect("project_detail", project.pk)
    context = {"form": form, "project": project, "milestone": milestone}
    return render(request, "escalations/milestone_form.html", context, status=status)


@login_required
@require_POST
def project_milestone_done(request, pk: int, milestone_pk: int):
    require(request.user, Capability.RUN_PROJECTS)
    project = _project_or_404(request.user, pk)
    milestone = project.milestones.filter(pk=milestone_pk).first()
    if milestone is None:
        raise Http404("No such milestone")
    try:
        milestone_complete(milestone=milestone, actor=request.user)
    except (DomainError, Milestone.DoesNotExist) as error:
        messages.error(request, getattr(error, "message", str(error)))
    else:
        messages.success(request, f"Milestone “{milestone.title}” done.")
    return redirect("project_detail", project.pk)
