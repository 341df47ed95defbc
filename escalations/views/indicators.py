"""The indicator page: its series, every flag raised on it and what Operations did about it.

It lives in ``escalations`` (not ``indicators/views.py``) because it shows flags and their history, and
``indicators`` never imports ``escalations``."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from indicators.models import Indicator

from .. import charts, selectors


@login_required
def indicator_detail(request, pk: int):
    try:
        indicator = selectors.indicator_get(pk)
    except Indicator.DoesNotExist:
        raise Http404("No such indicator") from None
    measurements = selectors.indicator_measurements(indicator)
    flags = list(selectors.flags_of_indicator(request.user, indicator))
    return render(
        request,
        "escalations/indicator_detail.html",
        {
            "indicator": indicator,
            "measurements": measurements,
            "chart": charts.series_chart(indicator=indicator, measurements=measurements),
            "flags": flags,
            "events": selectors.events_of_indicator(request.user, indicator),
        },
    )
