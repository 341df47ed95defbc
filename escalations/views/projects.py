"""The project board and the pages that run a project: create, edit, change status (complete needs an
outcome, and resolves the project's flags), milestones."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .. import charts, selectors
from ..errors import DomainError
from ..forms import MilestoneForm, ProjectForm, ProjectStatusForm, show_domain_error
from ..models import Milestone, Project, ProjectStatus
from ..services import milestone_add, milestone_complete, project_create, project_update
from ..services.projects import PROJECT_TRANSITIONS
from .common import runs_projects

BOARD_COLUMNS = [ProjectStatus.PROPOSED, ProjectStatus.ACTIVE, ProjectStatus.ON_HOLD, ProjectStatus.COMPLETED]
STATUS_BUTTONS = {
    ProjectStatus.ACTIVE: "Start (make active)",
    ProjectStatus.ON_HOLD: "Put on hold",
    ProjectStatus.COMPLETED: "Complete project",
    ProjectStatus.CANCELLED: "Cancel project",
}


def _project_or_404(user, pk) -> Project:
    try:
        return selectors.project_get(user, pk)
    except Project.DoesNotExist:
        raise Http404("No such project") from None


def _require_runner(user) -> None:
    if not runs_projects(user):
        raise PermissionDenied("Only project managers and ops leads run projects.")


def _trend(project, series) -> list:
    """The series of each indicator whose flag the project took on, marked from the project's start."""
    seen, trends = set(), []
    for flag in project.flags.all():
        indicator = flag.indicator
        if indicator.pk in seen:
            continue
        seen.add(indicator.pk)
        measurements = series.get(indicator.pk, [])
        since = project.start_date or project.created_at.date()
        trends.append({"indicator": indicator, "measurements": measurements, "since": since})
    return trends


@login_required
def project_board(request):
    projects = list(selectors.projects_visible_to(request.user).prefetch_related("flags__indicator__agency"))
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
            "can_run": runs_projects(request.user),
        },
    )


@login_required
def project_detail(request, pk: int, status_form=None, milestone_form=None, status: int = 200):
    project = _project_or_404(request.user, pk)
    series = selectors.series_by_indicator({f.indicator_id for f in project.flags.all()})
    trends = _trend(project, series)
    for trend in trends:
        trend["chart"] = charts.series_chart(
            indicator=trend["indicator"], measurements=trend["measurements"], since=trend["since"]
        )
    next_statuses = [(s, STATUS_BUTTONS[s]) for s in PROJECT_TRANSITIONS[project.status] if s in STATUS_BUTTONS]
    return render(
        request,
        "escalations/project_detail.html",
        {
            "project": project,
            "trends": trends,
            "can_run": runs_projects(request.user),
            "next_statuses": next_statuses,
            "status_form": status_form or ProjectStatusForm(initial={"outcome": project.outcome}),
            "milestone_form": milestone_form or MilestoneForm(),
            "events": selectors.events_visible_to(request.user).filter(project=project).order_by("id"),
        },
        status=status,
    )


@login_required
def project_create_view(request):
    _require_runner(request.user)
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            project = project_create(
                actor=request.user,
                title=data["title"],
                description=data["description"],
                owner=data["owner"],
                agencies=list(data["agencies"]),
                start_date=data["start_date"],
                target_date=data["target_date"],
            )
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, f"Project “{project.title}” created.")
            return redirect("project_detail", project.pk)
    return render(request, "escalations/project_form.html", {"form": form, "project": None})


@login_required
def project_edit(request, pk: int):
    _require_runner(request.user)
    project = _project_or_404(request.user, pk)
    form = ProjectForm(request.POST or None, instance=project)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        agencies = list(data.pop("agencies"))
        # Fresh from the database: the model form has already copied the input onto ``project``.
        project = _project_or_404(request.user, pk)
        try:
            project_update(project=project, actor=request.user, agencies=agencies, **data)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, "Project saved.")
            return redirect("project_detail", project.pk)
    return render(request, "escalations/project_form.html", {"form": form, "project": project})


@login_required
@require_POST
def project_status(request, pk: int):
    _require_runner(request.user)
    project = _project_or_404(request.user, pk)
    form = ProjectStatusForm(request.POST)
    if form.is_valid():
        changes = {"outcome": form.cleaned_data["outcome"]} if form.cleaned_data["outcome"].strip() else {}
        try:
            project_update(project=project, actor=request.user, status=form.cleaned_data["status"], **changes)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, f"Project is now {ProjectStatus(form.cleaned_data['status']).label.lower()}.")
            return redirect("project_detail", project.pk)
    return project_detail(request, pk, status_form=form, status=400)


@login_required
@require_POST
def project_milestone_add(request, pk: int):
    _require_runner(request.user)
    project = _project_or_404(request.user, pk)
    form = MilestoneForm(request.POST)
    if form.is_valid():
        try:
            milestone_add(project=project, actor=request.user, **form.cleaned_data)
        except DomainError as error:
            show_domain_error(form, error)
        else:
            messages.success(request, "Milestone added.")
            return redirect("project_detail", project.pk)
    return project_detail(request, pk, milestone_form=form, status=400)


@login_required
@require_POST
def project_milestone_done(request, pk: int, milestone_pk: int):
    _require_runner(request.user)
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
