"""The labelled detection benchmark (``benchmarks/signal_data.py``): its files must import through the real
importer into exactly the series its labels name, and the data must hold what the labels claim."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest

from benchmarks.signal_data import KINDS, generate
from indicators.models import Frequency, Indicator, Measurement, MeasurementRevision, TargetKind
from indicators.services import import_file

SIGNALS = generate(seed=7, monthly=24, annual=12)
LATEST_PERIOD = {"annual": dt.date(2025, 7, 1), "four_month": dt.date(2026, 7, 1), "monthly": dt.date(2026, 10, 1)}


def _rows() -> list[dict]:
    return list(csv.DictReader(io.StringIO(SIGNALS.main.decode("utf-8"))))


def _import_main():
    return import_file(file_name="signals.csv", content=SIGNALS.main)


def _values(series: str) -> dict[dt.date, float]:
    return {
        m.period: float(m.value) for m in Measurement.objects.filter(indicator__external_id=series).order_by("period")
    }


@pytest.mark.django_db
def test_both_files_import_without_errors_into_the_expected_values():
    outcome = _import_main()

    assert outcome.format == "open_data_long"
    assert outcome.counts["indicators_created"] == len(SIGNALS.labels)
    # A monthly row gives its month, a June row also the fiscal year, an October row also the 4-month value;
    # an annual row gives one value.
    rows = _rows()
    expected = sum(1 + (r["frequency"] == "Monthly" and r["valuedate"][5:7] in ("06", "10")) for r in rows)
    assert outcome.counts["measurements_created"] == expected
    # Nothing suspicious (no percentage over 100, no 10× jump): only the benchmark's made-up agencies are new.
    assert outcome.warnings and all("was not known" in w.message for w in outcome.warnings)

    restated = import_file(file_name="restated.csv", content=SIGNALS.restatements)

    lines = SIGNALS.restatements.decode("utf-8").splitlines()
    assert lines[0] == "indicator,period,value" and len(lines) > 1
    assert restated.format == "generic"
    assert restated.counts["measurements_created"] == 0
    assert restated.counts["measurements_restated"] == len(lines) - 1
    assert all(w.message.startswith("restated:") for w in restated.warnings)
    for revision in MeasurementRevision.objects.all():
        assert 0 < abs(revision.new_value / revision.old_value - 1) <= Decimal("0.031")


@pytest.mark.django_db
def test_every_label_names_an_imported_series_and_every_series_has_a_label():
    _import_main()

    indicators = {i.external_id: i for i in Indicator.objects.all()}
    assert set(indicators) == set(SIGNALS.labels)
    for series, label in SIGNALS.labels.items():
        indicator = indicators[series]
        assert (indicator.frequency, indicator.desired_direction) == (label.frequency, label.direction), series
        if label.frequency != Frequency.ANNUAL:
            assert indicator.target_kind != TargetKind.NUMERIC, series  # companions drop numeric targets
        # The latest period the labels speak of is the series' latest.
        latest = Measurement.objects.filter(indicator=indicator).order_by("-period").first()
        assert latest.period == LATEST_PERIOD[label.frequency], series
    assert SIGNALS.last_month == LATEST_PERIOD["monthly"] and SIGNALS.as_of == dt.date(2026, 11, 15)


def test_labels_hold_clean_and_dirty_series_of_every_kind_and_frequency():
    labels = list(SIGNALS.labels.values())
    assert {label.status for label in labels} >= {"clean", "dirty"}
    for frequency in ("monthly", "annual", "four_month"):
        assert {label.kind for label in labels if label.status == "dirty" and label.frequency == frequency} == set(
            KINDS
        )
    for label in labels:
        if label.status == "clean":
            assert (label.kind, label.start, label.magnitude) == ("", None, 0), label
        else:
            assert label.kind in KINDS and label.direction != "neutral", label
            assert label.start <= SIGNALS.last_month and label.magnitude >= 2.5 * label.noise, label
    # One deterioration per indicator: its series agree on kind, start and magnitude.
    for label in labels:
        parent = SIGNALS.labels[label.series.split("-")[0]]
        assert (label.kind, label.start, label.magnitude) == (parent.kind, parent.start, parent.magnitude)


def test_generation_is_deterministic():
    again = generate(seed=7, monthly=24, annual=12)
    other = generate(seed=8, monthly=24, annual=12)

    assert (again.main, again.restatements, again.labels) == (SIGNALS.main, SIGNALS.restatements, SIGNALS.labels)
    assert other.main != SIGNALS.main and other.labels != SIGNALS.labels


def test_clean_percentages_stay_between_0_and_100():
    clean = {series for series, label in SIGNALS.labels.items() if label.status == "clean"}
    values = [
        float(row[column])
        for row in _rows()
        if row["measurement_type"] == "Percent" and row["id"] in clean
        for column in ("acceptedvalue", "acceptedvalueytd")
    ]
    assert len(values) > 100
    assert all(0 <= value <= 100 for value in values)


@pytest.mark.django_db
def test_a_dirty_shift_series_is_worse_than_a_year_earlier_by_about_its_magnitude():
    _import_main()
    shifts = [x for x in SIGNALS.labels.values() if x.kind == "shift" and x.frequency == "monthly"]
    assert shifts
    for label in shifts:
        assert label.status == "dirty"
        values = _values(label.series)
        months = sorted(period for period in values if period >= label.start)
        recent = sum(values[m] for m in months)
        year_before = sum(values[m.replace(year=m.year - 1)] for m in months)
        worse = (1 - recent / year_before) if label.direction == "up" else (recent / year_before - 1)
        # Up to a year of trend (4 %) and the noise of both sums.
        slack = 0.04 + 3 * label.noise * (2 / len(months)) ** 0.5
        assert worse > 0 and abs(worse - label.magnitude) <= slack, (label, worse)


@pytest.mark.django_db
def test_targets_are_met_by_clean_series_and_missed_by_target_injections():
    _import_main()
    import_file(file_name="restated.csv", content=SIGNALS.restatements)  # restatements keep both true
    checked = set()
    for indicator in Indicator.objects.filter(target_kind=TargetKind.NUMERIC):
        label = SIGNALS.labels[indicator.external_id]
        value = _values(indicator.external_id)[LATEST_PERIOD["annual"]]
        target = float(indicator.target)
        better = (value - target) / target * (1 if label.direction == "up" else -1)
        if label.status == "clean":
            assert 0.03 - 1e-6 <= better <= 0.15 + 1e-6, (label, value, target)
            checked.add("clean")
        elif label.kind == "target":
            assert 0.08 - 1e-6 <= -better <= 0.25 + 1e-6, (label, value, target)
            checked.add("target")
    assert checked == {"clean", "target"}


def test_sustained_monthly_series_end_in_consecutive_declines():
    rows = _rows()
    sustained = [x for x in SIGNALS.labels.values() if x.kind == "sustained" and x.frequency == "monthly"]
    assert sustained
    for label in sustained:
        values = [float(r["acceptedvalue"]) for r in rows if r["id"] == label.series.removesuffix("-M")]
        steps = (SIGNALS.last_month.year - label.start.year) * 12 + SIGNALS.last_month.month - label.start.month + 1
        assert 4 <= steps <= 8
        tail = values[-steps - 1 :]
        sign = 1 if label.direction == "up" else -1
        worse = sum((tail[i + 1] - tail[i]) * sign < 0 for i in range(steps))
        assert worse >= steps - 1, (label, tail)  # noise may blur one step, not the decline
