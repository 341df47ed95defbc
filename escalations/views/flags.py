"""The triage queue (with bulk actions) and the flag page (with the action forms this user may use now)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from core.errors import ActionForbidden, DomainError
from core.forms import submit

from .. import charts, selectors
from ..access import actions_ever_allowed, available_actions, may_ever
from ..filters import FlagFilter
from ..forms import ACTION_FORMS, BulkActionForm
from ..lifecycle import Action
from ..models import Flag
from ..priority import PRIORITY_FORMULA, priority_terms
from ..services import ACTION_SERVICES, flags_bulk_act
from .common import default_view, paginate, safe_next

QUEUE_PAGE_SIZE = 50


@login_required
def flag_queue(request):
    """The flag list of ``FlagFilter`` (the API's ``GET flags/`` with the same query gives the same rows); a
    bare address shows the open performance cases by priority."""
    bare = default_view(request, "flag_queue", FlagFilter)
    if bare is not None:
        return bare
    filters = FlagFilter(request.GET, queryset=selectors.flags_visible_to(request.user), request=request)
    valid = filters.is_valid()
    page = paginate(request, filters.qs if valid else Flag.objects.none(), QUEUE_PAGE_SIZE)
    bulk = BulkActionForm(flag_ids=[flag.pk for flag in page], user=request.user, auto_id="id_bulk_%s")
    return render(
        request,
        "escalations/flag_queue.html",
        {"filters": filters, "page": page, "bulk": bulk, "priority_formula": PRIORITY_FORMULA},
        status=200 if valid else 400,
    )


@login_required
@require_POST
def flag_bulk(request):
    """Apply one action to several flags through the bulk service (each flag through the same service as
    the single action), and say honestly how many succeeded and why the others did not."""
    if not actions_ever_allowed(request.user):  # a role that acts on no case: refused (403), not redirected
        raise ActionForbidden("Your role takes no action on cases.")
    back = safe_next(request, reverse("flag_queue"))
    requested = [int(pk) for pk in request.POST.getlist("ids") if pk.isdigit()]
    if not requested:
        messages.error(request, "Select at least one case.")
        return redirect(back)
    form = BulkActionForm(request.POST, flag_ids=requested, user=request.user, auto_id="id_bulk_%s")
    if not form.is_valid():
        problems = " ".join(" ".join(errors) for errors in form.errors.values())
        messages.error(request, f"Nothing was done. {problems}")
        return redirect(back)
    action = Action(form.cleaned_data["action"])
    try:
        outcome = flags_bulk_act(
            actor=request.user, action=action, inputs=form.chosen().service_kwargs(), ids=requested
        )
    except DomainError as error:
        messages.error(request, f"Nothing was done. {error.message}")
        return redirect(back)
    summary = (
        f"{action.label}: {len(outcome.succeeded)} of {outcome.matched} case{'s' if outcome.matched != 1 else ''} done."
    )
    if outcome.failed:
        messages.warning(request, f"{summary} Not done — {' '.join(f'#{pk}: {e.message}' for pk, e in outcome.failed)}")
    else:
        messages.success(request, summary)
    return redirect(back)


def _flag_or_404(user, pk) -> Flag:
    try:
        return selectors.flag_get(user, pk)
    except Flag.DoesNotExist:
        raise Http404("No such flag") from None


def flag_page_context(request, flag: Flag, bound=None) -> dict:
    """Everything the flag page shows; ``bound`` is a submitted form to show again with its errors."""
    indicator = flag.indicator
    measurements = selectors.indicator_measurements(indicator)
    chart, band = charts.case_chart(flag=flag, measurements=measurements)
    actions = available_actions(request.user, flag)
    forms = []
    for name in actions:
        action = Action(name)
        if bound is not None and bound.action == action:
            forms.append(bound)
        else:
            forms.append(ACTION_FORMS[action](flag=flag, user=request.user))
    if bound is not None and bound.action.value not in actions:
        # The action is no longer open to this user (someone else acted first): show why, with the form.
        forms.insert(0, bound)
    for form in forms:
        form.url = reverse("flag_act", args=[flag.pk, form.action.value])
    note_form = next((form for form in forms if form.action == Action.NOTE), None)
    return {
        "flag": flag,
        "indicator": indicator,
        "measurements": measurements,
        "chart": chart,
        "band": band,
        "priority_terms": priority_terms(flag),
        "notes": selectors.notes_of_flag(flag),
        "events": selectors.events_of_flag(flag),
        "escalations": selectors.escalations_of_flag(flag),
        "action_forms": [form for form in forms if form.action != Action.NOTE],
        "note_form": note_form,
        "open_bound": bound.action.value if bound is not None else "",
    }


def _done(action: Action, result: object) -> str:
    """What the page says after an action: where a conversion led (a link to the project), else that it was
    done. Built with ``format_html``, so a project's title is escaped and the link is safe to show."""
    project = getattr(result, "project", None) if action == Action.CONVERT else None
    if project is not None:
        return format_html(
            'Converted to project <a href="{}">“{}”</a>.', reverse("project_detail", args=[project.pk]), project.title
        )
    if action == Action.ESCALATE:  # the liaison cannot open the inbox it went to: say where, link nothing
        return "Escalated: it waits for the deputy mayor's office to decide."
    return f"{action.label}: done."


@login_required
def flag_detail(request, pk: int):
    flag = _flag_or_404(request.user, pk)
    return render(request, "escalations/flag_detail.html", flag_page_context(request, flag))


@login_required
@require_POST
def flag_act(request, pk: int, action: str):
    """Submit one action's form: the service decides; its refusal is shown inline on the flag page."""
    flag = _flag_or_404(request.user, pk)
    if action not in Action.values:
        raise Http404("No such action")
    action = Action(action)
    if not may_ever(request.user, action):  # refused for the role (403) whatever was typed
        raise ActionForbidden(f"Your role may not take the action “{action.label}”.")
    form = ACTION_FORMS[action](request.POST, flag=flag, user=request.user)
    status, result = submit(
        form, lambda: ACTION_SERVICES[action](flag=flag, actor=request.user, **form.service_kwargs())
    )
    if status == 200:
        messages.success(request, _done(action, result))
        return redirect(safe_next(request, reverse("flag_detail", args=[flag.pk])))
    flag = _flag_or_404(request.user, pk)  # as it is now: another action may have come first
    return render(request, "escalations/flag_detail.html", flag_page_context(request, flag, bound=form), status=status)
