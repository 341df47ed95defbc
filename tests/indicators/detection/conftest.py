"""Building hand-computed series and single-rule set-ups for the detection tests."""

import datetime as dt
from decimal import Decimal

import pytest

from indicators.detection import evaluate
from indicators.detection.classify import add_months
from indicators.detection.rules import STEP_MONTHS
from indicators.models import Frequency, Measurement, ThresholdRule

from ...factories import IndicatorFactory, RuleFactory

FAR_FUTURE = dt.date(2100, 1, 1)


@pytest.fixture
def series(db):
    """series([v0, v1, None, v3, …], **indicator fields) → an indicator whose consecutive periods (from
    FY2016, or ``start``) hold those values; ``None`` leaves a period missing."""

    def make(values, *, start=dt.date(2015, 7, 1), frequency=Frequency.ANNUAL, **fields):
        indicator = IndicatorFactory(frequency=frequency, **fields)
        step = STEP_MONTHS[frequency]
        Measurement.objects.bulk_create(
            Measurement(indicator=indicator, period=add_months(start, i * step), value=Decimal(str(v)))
            for i, v in enumerate(values)
            if v is not None
        )
        return indicator

    return make


@pytest.fixture
def only_rule(db):
    """only_rule(kind, yellow, red, **fields) → the one active rule (the seeded defaults are switched off)."""

    def make(kind, yellow, red, **fields):
        ThresholdRule.objects.update(active=False)
        return RuleFactory(kind=kind, yellow=Decimal(str(yellow)), red=Decimal(str(red)), **fields)

    return make


@pytest.fixture
def detect(db):
    """detect(as_of) → ({indicator id: severity}, evaluated pairs) over every indicator."""

    def run(as_of=FAR_FUTURE):
        evaluation = evaluate(lo_id=0, hi_id=10**12, as_of=as_of)
        return {b.indicator_id: b for b in evaluation.breaches}, evaluation.evaluated

    return run
