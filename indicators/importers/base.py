"""What every format's parser produces: indicator and measurement records, plus row-level errors and
warnings. Parsers read text and never touch the database; ``indicators.services.import_file`` applies."""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Problem:
    """An error or warning about one place in the file. ``line`` counts the header as line 1."""

    line: int | None
    column: str | None
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message}

    def __str__(self) -> str:
        where = ", ".join(
            part
            for part in (f"line {self.line}" if self.line else "", f"column {self.column}" if self.column else "")
            if part
        )
        return f"{where}: {self.message}" if where else self.message


@dataclass
class IndicatorRecord:
    external_id: str
    name: str
    agency_name: str  # empty: no agency given
    line: int
    agency_number: str = ""
    service: str = ""
    goal: str = ""
    description: str = ""
    desired_direction: str = "neutral"
    critical: bool = False
    target: Decimal | None = None
    target_kind: str = "none"
    measurement_type: str = "number"
    unit: str = ""
    frequency: str = "annual"
    active: bool = True
    parent_external_id: str = ""


@dataclass
class MeasurementRecord:
    external_id: str
    period: dt.date
    value: Decimal
    line: int
    column: str
    preliminary: bool = False


@dataclass
class ParseResult:
    format: str
    rows: int = 0
    indicators: list[IndicatorRecord] = field(default_factory=list)
    measurements: list[MeasurementRecord] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def error(self, line: int | None, column: str | None, message: str) -> None:
        self.errors.append(Problem(line, column, message))

    def warn(self, line: int | None, column: str | None, message: str) -> None:
        self.warnings.append(Problem(line, column, message))


def fiscal_year_start(year: int) -> dt.date:
    """New York City's fiscal year N runs from 1 July of N−1 to 30 June of N; a period is its start date."""
    return dt.date(year - 1, 7, 1)


def infer_measurement_type(name: str) -> tuple[str, str]:
    """(measurement type, unit) from an MMR indicator name such as "Calls answered in 30 seconds (%)"."""
    lowered = name.lower()
    if "minutes:seconds" in lowered or "hours:minutes" in lowered:
        return "timespan", "seconds"
    if "%" in name:
        return "percentage", "%"
    if "$" in name:
        return "currency", "$"
    return "number", ""
