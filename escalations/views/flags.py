"""The triage queue (with bulk actions and the user's saved views) and the flag page (with the action forms
this user may use now)."""

from urllib.parse import urlsplit

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from core.errors import ActionForbidden, DomainError, NotFound
from core.forms import show_domain_error, submit

from .. import charts, selectors
from ..access import actions_ever_allowed, available_actions, may_ever
from ..filters import FlagFilter
from ..forms import ACTION_FORMS, BulkActionForm, SavedViewForm
from ..lifecycle import Action
from ..models import Flag
from ..priority import PRIORITY_FORMULA, priority_terms
from ..queue_groups import queue_rows
from ..services import ACTION_SERVICES, flags_bulk_act
from ..services.saved_views import saved_view_delete, saved_view_query, saved_view_save
from .common import default_view, safe_next

QUEUE_PAGE_SIZE = 50


def _queue_page(request, query: QueryDict, *, bulk=None, checked=(), saved_form=None, status: int = 200):
    """The queue for ``query`` (its own address's, or the one a refused form was posted from): a page of the
    rows of ``FlagFilter`` with breakouts grouped under their parent (``queue_groups``), the bulk form
    (``bulk``: a refused one, shown again with its action and fields, and ``checked``: the cases that were
    selected) and the saved views."""
    filters = FlagFilter(query, queryset=selectors.flags_visible_to(request.user), request=request)
    valid = filters.is_valid()
    # Each breakout's parent comes in the same query: the page names it to group the breakouts under it.
    flags = filters.qs.select_related("indicator__parent") if valid else Flag.objects.none()
    page = Paginator(flags, QUEUE_PAGE_SIZE).get_page(query.get("page"))
    if bulk is None:
        bulk = BulkActionForm(flag_ids=[flag.pk for flag in page], user=request.user, auto_id="id_bulk_%s")
    current = saved_view_query(query.urlencode())
    saved_views = list(selectors.saved_views_of(request.user))
    context = {
        "filters": filters,
        "page": page,
        "rows": queue_rows(page),
        "bulk": bulk,
        "checked": set(checked),
        "query": query,
        "queue_url": f"{reverse('flag_queue')}?{query.urlencode()}",
        "saved_views": saved_views,
        "current_view": next((view for view in saved_views if view.query == current), None),
        "saved_form": saved_form or SavedViewForm(initial={"query": current}, auto_id="id_saved_%s"),
        "priority_formula": PRIORITY_FORMULA,
    }
    return render(request, "escalations/flag_queue.html", context, status=status if valid else 400)


def _query_of(url: str) -> QueryDict:
    return QueryDict(urlsplit(url).query)


@login_required
def flag_queue(request):
    """The flag list of ``FlagFilter`` (the API's ``GET flags/`` with the same query gives the same rows); a
    bare address shows the open performance cases by priority."""
    bare = default_view(request, "flag_queue", FlagFilter)
    if bare is not None:
        return bare
    return _queue_page(request, request.GET)


@login_required
@require_POST
def flag_bulk(request):
    """Apply one action to several flags through the bulk service (each flag through the same service as
    the single action), and say honestly how many succeeded and why the others did not. A submission that
    does nothing is shown again (400, or the refusal's own status) with its cases still selected and its
    action and fields still filled, so that nobody has to pick them again."""
    if not actions_ever_allowed(request.user):  # a role that acts on no case: refused (403), not redirected
        raise ActionForbidden("Your role takes no action on cases.")
    back = safe_next(request, reverse("flag_queue"))
    requested = [int(pk) for pk in request.POST.getlist("ids") if pk.isdigit()]
    form = BulkActionForm(request.POST, flag_ids=requested, user=request.user, auto_id="id_bulk_%s")

    def refused(problem: str, status: int = 400):
        form.is_valid()  # the action's own field errors, shown at their fields
        # The selection is the rows' checkboxes, not a field drawn with its errors: its problems go above.
        unshown = " ".join(f"Cases: {error}" for error in form.errors.get("ids", []))
        form.add_error(None, " ".join(("Nothing was done.", problem or unshown)).strip())
        return _queue_page(request, _query_of(back), bulk=form, checked=requested, status=status)

    if not requested:
        return refused("Select at least one case.")
    if not form.is_valid():
        return refused("")
    action = Action(form.cleaned_data["action"])
    chosen = form.chosen()  # a valid form names an offered action, whose sub-form is valid
    try:
        outcome = flags_bulk_act(actor=request.user, action=action, inputs=chosen.service_kwargs(), ids=requested)
    except DomainError as error:
        show_domain_error(chosen, error)
        return refused(error.message, error.status_code)
    summary = (
        f"{action.label}: {len(outcome.succeeded)} of {outcome.matched} case{'s' if outcome.matched != 1 else ''} done."
    )
    if outcome.failed:
        messages.warning(request, f"{summary} Not done — {' '.join(f'#{pk}: {e.message}' for pk, e in outcome.failed)}")
    else:
        messages.success(request, summary)
    return redirect(back)


@login_required
@require_POST
def saved_view_create(request):
    """Save the queue's current filters under a name (the same name again replaces that view's filters), then
    show the queue through it; a refusal is shown on the queue at the form."""
    form = SavedViewForm(request.POST, auto_id="id_saved_%s")
    status, view = submit(
        form,
        lambda: saved_view_save(user=request.user, name=form.cleaned_data["name"], query=form.cleaned_data["query"]),
    )
    if view is None:
        query = QueryDict(form.data.get("query", ""))
        return _queue_page(request, query, saved_form=form, status=status)
    messages.success(request, f"Saved the view “{view.name}”.")
    return redirect(f"{reverse('flag_queue')}?{view.query}")


@login_required
@require_POST
def saved_view_remove(request, pk: int):
    """Delete one of the user's saved views (another person's does not exist for them: 404)."""
    try:
        saved_view_delete(user=request.user, view_id=pk)
    except NotFound:
        raise Http404("No such saved view") from None
    messages.success(request, "The saved view is deleted.")
    return redirect(safe_next(request, reverse("flag_queue")))


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
        agency = result.indicator.agency if isinstance(result, Flag) else None
        if agency is not None and agency.portfolio_id is None:  # see notifications._escalation_audience
            return f"Escalated: {agency.name} is in no portfolio, so it waits for the ops leads to decide."
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
