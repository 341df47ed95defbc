"""The importer keeps each indicator's series columns (its first and latest period, the start of its latest
unbroken run); the checks read them instead of the measurements — the latest period, and the gap test of each
window — and must answer exactly as if they had looked the periods up and counted them."""

import datetime as dt

import pytest

from indicators.detection import evaluate
from indicators.detection.rules import STEP_MONTHS
from indicators.models import Indicator, Measurement

from ..conftest import FY16_SAMPLE, REAL_FILE, load, series_columns


def _outcome(as_of: dt.date) -> tuple[set, set]:
    evaluation = evaluate(lo_id=0, hi_id=10**12, as_of=as_of)
    return {(b.indicator_id, b.rule_id, b.severity, b.period, b.value) for b in evaluation.breaches}, evaluation.pairs()


def test_the_importer_keeps_each_indicators_series_columns(db):
    load(FY16_SAMPLE)
    load(REAL_FILE)  # later values for some of the same indicators
    periods: dict[int, list[dt.date]] = {}
    for indicator_id, period in Measurement.objects.values_list("indicator", "period"):
        periods.setdefault(indicator_id, []).append(period)
    found = {i.pk: (i.reported_from, i.reported_through, i.unbroken_since) for i in Indicator.objects.all()}
    assert found == {
        i.pk: series_columns(periods.get(i.pk, []), STEP_MONTHS[i.frequency]) for i in Indicator.objects.all()
    }
    assert periods and any(run != first for first, _latest, run in found.values())  # some series have a gap


@pytest.mark.parametrize("as_of", [dt.date(2022, 10, 31), dt.date(2021, 6, 30), dt.date(2030, 1, 1)])
def test_the_checks_answer_the_same_with_or_without_the_kept_series_columns(db, as_of):
    load(REAL_FILE)
    kept = _outcome(as_of)
    # Every check looks the latest period up again and counts each window's values.
    Indicator.objects.update(reported_through=None, reported_from=None, unbroken_since=None)
    assert kept == _outcome(as_of)
    assert kept[0]  # the default rules flag something at every one of these dates
