"""The cell parsers: every spelling New York's files use."""

import datetime as dt
from decimal import Decimal

import pytest

from indicators.importers.values import (
    CellError,
    fiscal_year,
    parse_bool,
    parse_date,
    parse_direction,
    parse_number,
    parse_period,
    parse_target,
    period_start,
    timespan_warning,
)


@pytest.mark.parametrize(
    ("raw", "value", "kind"),
    [
        ("2,117", Decimal(2117), "number"),
        ("83%", Decimal(83), "percent"),
        ("2.2%", Decimal("2.2"), "percent"),
        ("0:45", Decimal(45), "timespan"),
        ("1:02:03", Decimal(3723), "timespan"),
        ("30.0", Decimal(30), "number"),
        ("$1,200.50", Decimal("1200.50"), "number"),
        ("(12)", Decimal(-12), "number"),
        ("0.1234567", Decimal("0.123457"), "number"),
        ("NA", None, "number"),
        ("", None, "number"),
        ("-", None, "number"),
        ("  n/a ", None, "number"),
    ],
)
def test_parse_number_reads_every_published_spelling(raw, value, kind):
    assert parse_number(raw) == (value, kind)


@pytest.mark.parametrize("raw", ["abc", "1.2.3", "1e400", "NaN", "Infinity", "12 34", "99999999999999"])
def test_parse_number_refuses_what_is_not_a_usable_number(raw):
    with pytest.raises(CellError, match="number"):
        parse_number(raw)


def test_timespan_warning_only_for_a_field_of_60_or_more():
    assert timespan_warning("0:75") is not None
    assert timespan_warning("1:61:00") is not None
    assert timespan_warning("0:45") is None
    assert timespan_warning("45") is None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("TRUE", True), ("FALSE", False), ("Yes", True), ("No", False), ("1", True), ("0", False), ("", False)],
)
def test_parse_bool(raw, expected):
    assert parse_bool(raw) is expected


def test_parse_bool_refuses_other_words():
    with pytest.raises(CellError, match="TRUE/FALSE"):
        parse_bool("maybe")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("Up", "up"), ("UP", "up"), ("Down", "down"), ("Neutral", "neutral"), ("None", "neutral"), ("*", "neutral")],
)
def test_parse_direction(raw, expected):
    assert parse_direction(raw) == expected


def test_parse_direction_refuses_other_words():
    with pytest.raises(CellError, match="direction"):
        parse_direction("sideways")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", (Decimal(12), "numeric")),
        ("80%", (Decimal(80), "numeric")),
        ("0:30", (Decimal(30), "numeric")),
        ("Up", (None, "up")),
        ("UP", (None, "up")),
        ("Down", (None, "down")),
        ("*", (None, "none")),
        ("NA", (None, "none")),
        ("?", (None, "tbd")),
    ],
)
def test_parse_target_keeps_the_kind(raw, expected):
    assert parse_target(raw) == expected


def test_parse_target_refuses_words():
    with pytest.raises(CellError, match="not a target"):
        parse_target("soon")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2021-06-01T00:00:00.000", dt.date(2021, 6, 1)),
        ("2021-06-01", dt.date(2021, 6, 1)),
        ("06/30/2021", dt.date(2021, 6, 30)),
        ("6/1/2021 12:00:00 AM", dt.date(2021, 6, 1)),
    ],
)
def test_parse_date(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", ["2021-13-01", "2021-02-30", "yesterday", "0001-01-01", ""])
def test_parse_date_refuses_impossible_dates(raw):
    with pytest.raises(CellError):
        parse_date(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("FY2023", (dt.date(2022, 7, 1), True)),
        ("FY23", (dt.date(2022, 7, 1), True)),
        ("2023-07", (dt.date(2023, 7, 1), False)),
        ("2023-07-15", (dt.date(2023, 7, 15), False)),
    ],
)
def test_parse_period(raw, expected):
    assert parse_period(raw) == expected


@pytest.mark.parametrize(("digits", "year"), [("23", 2023), ("2023", 2023), ("16", 2016), ("1999", 1999)])
def test_fiscal_year_reads_two_or_four_digits(digits, year):
    assert fiscal_year(digits) == year


def test_parse_period_refuses_a_fiscal_year_outside_1900_to_2100():
    with pytest.raises(CellError, match="between 1900 and 2100"):
        parse_period("FY0023")


@pytest.mark.parametrize(
    ("day", "frequency", "start"),
    [
        (dt.date(2023, 7, 15), "monthly", dt.date(2023, 7, 1)),
        (dt.date(2023, 9, 1), "quarterly", dt.date(2023, 7, 1)),
        (dt.date(2024, 3, 31), "quarterly", dt.date(2024, 1, 1)),
        (dt.date(2023, 6, 30), "annual", dt.date(2022, 7, 1)),
        (dt.date(2023, 7, 1), "annual", dt.date(2023, 7, 1)),
        (dt.date(2022, 10, 1), "four_month", dt.date(2022, 7, 1)),
    ],
)
def test_period_start_is_the_start_of_the_containing_period(day, frequency, start):
    assert period_start(day, frequency) == start
