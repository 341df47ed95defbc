"""The importer keeps each indicator's latest period; the checks read it instead of the measurements, and
must answer exactly as if they had looked the period up."""

import datetime as dt

import pytest
from django.db.models import Max

from indicators.detection import evaluate
from indicators.models import Indicator, Measurement

from ..conftest import FY16_SAMPLE, REAL_FILE, load


def _outcome(as_of: dt.date) -> tuple[set, set]:
    evaluation = evaluate(lo_id=0, hi_id=10**12, as_of=as_of)
    return {(b.indicator_id, b.rule_id, b.severity, b.period, b.value) for b in evaluation.breaches}, evaluation.pairs()


def test_the_importer_keeps_each_indicators_reported_through(db):
    load(FY16_SAMPLE)
    load(REAL_FILE)  # later values for some of the same indicators
    latest = dict(Measurement.objects.values("indicator").annotate(m=Max("period")).values_list("indicator", "m"))
    assert latest
    assert dict(Indicator.objects.values_list("id", "reported_through")) == {
        pk: latest.get(pk) for pk in Indicator.objects.values_list("id", flat=True)
    }


@pytest.mark.parametrize("as_of", [dt.date(2022, 10, 31), dt.date(2021, 6, 30), dt.date(2030, 1, 1)])
def test_the_checks_answer_the_same_with_or_without_the_kept_reported_through(db, as_of):
    load(REAL_FILE)
    kept = _outcome(as_of)
    Indicator.objects.update(reported_through=None)  # every check looks the latest period up again
    assert kept == _outcome(as_of)
    assert kept[0]  # the default rules flag something at every one of these dates
