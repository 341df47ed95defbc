"""The deputy mayor's printable briefing of a portfolio, and the inbox of escalations awaiting a decision
with the decision forms this user may use."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

from core.permissions import Capability, require

from .. import charts, reports, selectors
from ..access import available_actions
from ..forms import ACTION_FORMS
from ..lifecycle import Action

DECISIONS = (Action.DELEGATE, Action.CONVERT, Action.RETURN)


def _briefing_item(escalation, series, **extra) -> dict:
    flag = escalation.flag
    chart, band = charts.case_chart(flag=flag, measurements=series)
    return {"escalation": escalation, "flag": flag, "indicator": flag.indicator, "band": band, "chart": chart, **extra}


@login_required
def briefing(request, code: str):
    portfolio = selectors.portfolio_for_briefing(request.user, code)
    since = reports.briefing_since(request.GET.get("since") or None)
    briefing = reports.briefing_for(user=request.user, portfolio=portfolio, since=since)
    items = [_briefing_item(item.escalation, item.series, intelligence=item.intelligence) for item in briefing.awaiting]
    return render(request, "escalations/briefing.html", {"briefing": briefing, "items": items})


@login_required
def inbox(request):
    require(request.user, Capability.READ_BRIEFINGS)
    escalations = list(selectors.escalations_awaiting_decision(request.user).order_by("escalated_at"))
    series = selectors.series_by_indicator({e.flag.indicator_id for e in escalations})
    # The convert forms' choices, read once for every briefing on the page.
    shared = {
        "project": list(selectors.open_projects(request.user)),
        "owner": list(selectors.project_managers()),
        "agencies": list(selectors.agencies_all()),
    }
    briefings = []
    for escalation in escalations:
        flag = escalation.flag
        allowed = available_actions(request.user, flag)
        # Several briefings on one page: element ids carry the flag so that none repeats.
        forms = [
            ACTION_FORMS[action](
                flag=flag,
                user=request.user,
                auto_id=f"id_flag{flag.pk}_%s",
                shared=shared,
                url=reverse("flag_act", args=[flag.pk, action.value]),
            )
            for action in DECISIONS
            if action in allowed
        ]
        briefings.append(_briefing_item(escalation, series.get(flag.indicator_id, []), forms=forms))
    return render(request, "escalations/inbox.html", {"briefings": briefings, "next": reverse("inbox")})
