"""The triage queue (with bulk actions) and the flag page (with the action forms this user may use now)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from indicators.roles import roles_of

from .. import charts, selectors
from ..access import available_actions
from ..errors import ActionForbidden, DomainError, InvalidInput, TransitionNotAllowed
from ..forms import ACTION_FORMS, SORTS, BulkActionForm, QueueFilterForm, show_domain_error
from ..lifecycle import OPEN_STATUSES, Action, FlagStatus
from ..models import Flag, FlagCategory, FlagOrigin
from ..priority import PRIORITY_FORMULA, priority_terms
from ..services import ACTION_SERVICES
from .common import paginate, safe_next

QUEUE_PAGE_SIZE = 50


def _queue_flags(request, form: QueueFilterForm):
    flags = selectors.flags_visible_to(request.user)
    data = form.cleaned_data if form.is_valid() else {}
    flags = flags.filter(status=data["status"]) if data.get("status") else flags.filter(status__in=OPEN_STATUSES)
    category = data.get("category") or FlagCategory.PERFORMANCE
    if category != "all":
        flags = flags.filter(category=category)
    if data.get("severity"):
        flags = flags.filter(severity=data["severity"])
    if data.get("agency"):
        flags = flags.filter(indicator__agency__code=data["agency"])
    if data.get("portfolio"):
        flags = flags.filter(indicator__agency__portfolio__code=data["portfolio"])
    if data.get("rule") == "manual":
        flags = flags.filter(origin=FlagOrigin.MANUAL)
    elif data.get("rule"):
        flags = selectors.flags_with_active_signal_of(flags, data["rule"])
    if data.get("assignee") == "me":
        flags = flags.filter(assignee=request.user)
    elif data.get("assignee") == "none":
        flags = flags.filter(assignee__isnull=True)
    if data.get("critical"):
        flags = flags.filter(indicator__critical=True)
    return flags.order_by(*SORTS[data.get("sort") or "priority"][1], "pk")


@login_required
def flag_queue(request):
    form = QueueFilterForm(
        request.GET or None,
        agencies=selectors.agencies_all(),
        portfolios=selectors.portfolios_all(),
        rules=selectors.rules_all(),
        statuses=FlagStatus.choices,
    )
    page = paginate(request, _queue_flags(request, form), QUEUE_PAGE_SIZE)
    roles = roles_of(request.user)
    bulk = BulkActionForm(flag_ids=[flag.pk for flag in page], roles=roles, auto_id="id_bulk_%s")
    return render(
        request,
        "escalations/flag_queue.html",
        {
            "form": form,
            "page": page,
            "bulk": bulk,
            "query": request.GET.urlencode(),
            "priority_formula": PRIORITY_FORMULA,
        },
    )


@login_required
@require_POST
def flag_bulk(request):
    """Apply one action to several flags, each through the same service as the single action, and say
    honestly how many succeeded and why the others did not."""
    back = safe_next(request, reverse("flag_queue"))
    visible = selectors.flags_visible_to(request.user)
    requested = [int(pk) for pk in request.POST.getlist("ids") if pk.isdigit()]
    flags = {flag.pk: flag for flag in visible.filter(pk__in=requested)}
    form = BulkActionForm(request.POST, flag_ids=requested)
    if not requested:
        messages.error(request, "Select at least one flag.")
        return redirect(back)
    if not form.is_valid():
        problems = " ".join(
            f"{form.fields[name].label if name in form.fields else name}: {' '.join(errors)}"
            for name, errors in form.errors.items()
        )
        messages.error(request, f"Nothing was done. {problems}")
        return redirect(back)
    action = Action(form.cleaned_data["action"])
    service = ACTION_SERVICES[action]
    kwargs = form.service_kwargs()
    done, failed = [], []
    for pk in requested:
        flag = flags.get(pk)
        if flag is None:
            failed.append(f"#{pk}: not found")
            continue
        try:
            service(flag=flag, actor=request.user, **kwargs)
            done.append(pk)
        except DomainError as error:
            failed.append(f"#{pk}: {error.message}")
    summary = f"{action.label}: {len(done)} of {len(requested)} flag{'s' if len(requested) != 1 else ''} done."
    if failed:
        messages.warning(request, f"{summary} Not done — {' '.join(failed)}")
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
    form = ACTION_FORMS[action](request.POST, flag=flag, user=request.user)
    status = 400
    if form.is_valid():
        try:
            ACTION_SERVICES[action](flag=flag, actor=request.user, **form.service_kwargs())
        except DomainError as error:
            show_domain_error(form, error)
            status = {TransitionNotAllowed: 409, ActionForbidden: 403, InvalidInput: 400}.get(type(error), 400)
            flag = _flag_or_404(request.user, pk)
        else:
            messages.success(request, f"{action.label}: done.")
            return redirect(safe_next(request, reverse("flag_detail", args=[flag.pk])))
    return render(request, "escalations/flag_detail.html", flag_page_context(request, flag, bound=form), status=status)
