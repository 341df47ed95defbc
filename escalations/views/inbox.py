"""The deputy mayor's inbox: escalations awaiting the portfolio's decision, each with its briefing and the
decision forms this user may use."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse

from .. import charts, selectors
from ..access import available_actions
from ..forms import ACTION_FORMS
from ..lifecycle import Action

DECISIONS = (Action.DELEGATE, Action.CONVERT, Action.RETURN)


@login_required
def inbox(request):
    escalations = list(selectors.escalations_awaiting_decision(request.user).order_by("escalated_at"))
    series = selectors.series_by_indicator({e.flag.indicator_id for e in escalations})
    # The convert forms' choices, read once for every briefing on the page.
    shared = {
        "project": list(selectors.open_projects(request.user)),
        "owner": list(selectors.project_managers()),
    }
    briefings = []
    for escalation in escalations:
        flag = escalation.flag
        allowed = available_actions(request.user, flag)
        chart, band = charts.case_chart(flag=flag, measurements=series.get(flag.indicator_id, []))
        briefings.append(
            {
                "escalation": escalation,
                "flag": flag,
                "indicator": flag.indicator,
                "band": band,
                "chart": chart,
                # Several briefings on one page: element ids carry the flag so that none repeats.
                "forms": [
                    ACTION_FORMS[action](flag=flag, user=request.user, auto_id=f"id_flag{flag.pk}_%s", shared=shared)
                    for action in DECISIONS
                    if action in allowed
                ],
            }
        )
    return render(request, "escalations/inbox.html", {"briefings": briefings, "next": reverse("inbox")})
