"""The indicator page: its series, every flag raised on it and what Operations did about it; the agency's
liaisons, ops leads and admins set its tolerance and public-impact weight there (with a preview of what the
current data would flag), and raise a case by hand.

It lives in ``escalations`` (not ``indicators/views.py``) because it shows flags and their history, and
``indicators`` never imports ``escalations``."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from core.forms import submit
from core.permissions import Capability, may, require
from indicators.detection.preview import tolerance_preview
from indicators.forms import IndicatorTuneForm
from indicators.models import Indicator
from indicators.services import indicator_tune

from .. import charts, selectors
from ..forms import IndicatorMergeForm, RaiseFlagForm
from ..models import FlagCategory
from ..services import flag_raise, indicator_merge


def _indicator_or_404(pk) -> Indicator:
    try:
        return selectors.indicator_get(pk)
    except Indicator.DoesNotExist:
        raise Http404("No such indicator") from None


def _raise_form(indicator: Indicator, measurements, data=None) -> forms.Form:
    """The raise-a-case form, its period and value saying what a blank one stands for on this indicator."""
    form = RaiseFlagForm(data)
    if measurements:
        latest = measurements[-1]
        period = charts.period_label(latest.period, indicator.frequency)
        value = charts.format_value(latest.value, indicator.measurement_type)
        latest_text = f"{period} ({latest.period:%Y-%m-%d})"
        form.fields["period"].help_text = f"The start of the period. Blank: the latest measured period, {latest_text}."
        form.fields["value"].help_text = f"Blank: the value measured for that period ({period}: {value})."
    return form


@login_required
def indicator_detail(
    request, pk: int, raise_form=None, tune_form=None, preview=None, merge_form=None, status: int = 200
):
    indicator = _indicator_or_404(pk)
    measurements = selectors.indicator_measurements(indicator)
    flags = list(selectors.flags_of_indicator(request.user, indicator))
    open_case = next((f for f in flags if f.is_open and f.category == FlagCategory.PERFORMANCE), None)
    # The chart marks the lead signal of the newest open case the user may see.
    lead = next((flag.lead_signal for flag in flags if flag.is_open and flag.lead_signal), None)
    flagged_period = lead.period if lead else None
    may_raise = may(request.user, Capability.RAISE_FLAGS, agency=indicator.agency)
    may_tune = may(request.user, Capability.TUNE_INDICATORS, agency=indicator.agency)
    may_raise_now = open_case is None and may_raise
    may_merge = indicator.merged_into_id is None and may(request.user, Capability.MERGE_INDICATORS)
    return render(
        request,
        "escalations/indicator_detail.html",
        {
            "indicator": indicator,
            "measurements": measurements,
            "chart": charts.series_chart(indicator=indicator, measurements=measurements, flagged_period=flagged_period),
            "flagged_period": flagged_period,
            "flags": flags,
            "rules": selectors.rules_applying_to(indicator),
            "events": selectors.events_of_indicator(request.user, indicator),
            "open_case": open_case,
            # One case per indicator: a person raises one only when none is open.
            "raise_form": raise_form or (_raise_form(indicator, measurements) if may_raise_now else None),
            "tune_form": tune_form or (IndicatorTuneForm.of(indicator) if may_tune else None),
            "tolerance_preview": preview,
            "merge_form": merge_form or (IndicatorMergeForm.of(indicator) if may_merge else None),
        },
        status=status,
    )


@login_required
@require_POST
def indicator_raise_flag(request, pk: int):
    """Raise a flag by hand (what the thresholds do not catch); the service checks role and scope."""
    indicator = _indicator_or_404(pk)
    require(request.user, Capability.RAISE_FLAGS, agency=indicator.agency)  # 403 whatever was typed
    form = _raise_form(indicator, selectors.indicator_measurements(indicator), request.POST)
    status, flag = submit(form, lambda: flag_raise(indicator=indicator, actor=request.user, **form.cleaned_data))
    if flag is None:
        return indicator_detail(request, pk, raise_form=form, status=status)
    messages.success(request, f"Case #{flag.pk} raised.")
    return redirect("flag_detail", flag.pk)


@login_required
@require_POST
def indicator_tune_view(request, pk: int):
    """Set the tolerance and public-impact weight (``indicator_tune``, one event), or, with "Preview", show
    what the current data would flag with the entered tolerance without saving anything."""
    indicator = _indicator_or_404(pk)
    require(request.user, Capability.TUNE_INDICATORS, agency=indicator.agency)  # 403 whatever was typed
    form = IndicatorTuneForm.of(indicator, request.POST)
    if "preview" in request.POST:
        if not form.is_valid():
            return indicator_detail(request, pk, tune_form=form, status=400)
        preview = tolerance_preview(indicator=indicator, tolerance=form.cleaned_data["tolerance"])
        return indicator_detail(request, pk, tune_form=form, preview=preview)
    status, tuned = submit(form, lambda: indicator_tune(indicator=indicator, actor=request.user, **form.cleaned_data))
    if tuned is None:
        return indicator_detail(request, pk, tune_form=form, status=status)
    messages.success(request, "Tolerance and public impact saved.")
    return redirect("indicator_detail", pk)


@login_required
@require_POST
def indicator_merge_view(request, pk: int):
    """Merge another indicator of the same agency into this one (``indicator_merge``, one event). Ops leads."""
    indicator = _indicator_or_404(pk)
    require(request.user, Capability.MERGE_INDICATORS)  # 403 whatever was typed
    form = IndicatorMergeForm.of(indicator, request.POST)
    status, kept = submit(
        form, lambda: indicator_merge(actor=request.user, survivor=indicator, merged=form.cleaned_data["merged"])
    )
    if kept is None:
        return indicator_detail(request, pk, merge_form=form, status=status)
    merged = form.cleaned_data["merged"]
    messages.success(request, f"{merged.external_id} “{merged.name}” merged into this indicator.")
    return redirect("indicator_detail", pk)
