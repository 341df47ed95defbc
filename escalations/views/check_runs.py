"""The check-run history with its progress, and the "run now" button. It lives here, not in the indicators
app, because starting a run is the escalations app's service (it opens and updates cases)."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.errors import Conflict
from core.permissions import Capability, require
from indicators import selectors as indicator_selectors
from indicators.models import CheckRunMode, CheckRunStatus

from ..services.checks import check_run_start


@login_required
def check_run_list(request):
    require(request.user, Capability.READ_OPERATIONS)
    runs = indicator_selectors.check_runs_recent()
    context = {
        "runs": runs,
        "running": any(run.status in (CheckRunStatus.PENDING, CheckRunStatus.RUNNING) for run in runs),
        "default_as_of": indicator_selectors.check_default_as_of(),
    }
    return render(request, "escalations/check_runs.html", context)


@login_required
@require_POST
def check_run_start_view(request):
    """ "Run now": a manual run as of the given date (blank: the default date). Refused for the role (403)
    before anything else is read."""
    require(request.user, Capability.CONFIGURE)
    try:
        as_of = dt.date.fromisoformat(request.POST["as_of"]) if request.POST.get("as_of") else None
    except ValueError:
        messages.error(request, "The as-of date is not a date (YYYY-MM-DD).")
        return redirect("checkrun_list")
    as_of = as_of or indicator_selectors.check_default_as_of().date
    mode = CheckRunMode.FULL if request.POST.get("full") else CheckRunMode.INCREMENTAL
    try:
        run = check_run_start(mode=mode, as_of=as_of, requested_by=request.user).run
    except Conflict as busy:  # another run is under way
        messages.error(request, busy.message)
    else:
        messages.success(
            request,
            f"Check run #{run.pk} ({run.get_mode_display().lower()}, as of {as_of}): {run.get_status_display().lower()}"
            f", {run.indicators_evaluated} indicators evaluated, {run.flags_opened} cases opened, "
            f"{run.flags_updated} updated, {run.flags_recovered} with cleared signals.",
        )
    return redirect("checkrun_list")
