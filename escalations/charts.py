"""Server-rendered SVG charts: the dashboard's sparklines and the series chart of the flag, inbox, project and
indicator pages. Plain SVG strings, so a chart reads without JavaScript and prints; every chart carries a
text alternative (``<title>``/``<desc>``) and the pages print the numbers beside it as a table.

Also the formatting of periods and values that the charts and the pages share."""

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from html import escape

from django.utils.safestring import SafeString, mark_safe

from indicators.detection.classify import change_limits
from indicators.models import Direction, Frequency, MeasurementType, MeasureUnit


def period_label(period: dt.date | None, frequency: str = Frequency.ANNUAL) -> str:
    """NYC's fiscal year N starts on 1 July of N−1; annual periods read as "FY2023"."""
    if period is None:
        return "—"
    if frequency == Frequency.ANNUAL:
        return f"FY{period.year + 1 if period.month >= 7 else period.year}"
    if frequency == Frequency.MONTHLY:
        return period.strftime("%b %Y")
    return period.isoformat()


def format_value(value, measurement_type: str = MeasurementType.NUMBER) -> str:
    """A value as the MMR prints it: ``83.2%``, ``$1,234``, ``2:05`` (minutes:seconds), ``2,117``."""
    if value is None:
        return "—"
    value = Decimal(value)
    if measurement_type == MeasurementType.TIMESPAN:
        seconds = round(value)
        return f"{seconds // 60}:{seconds % 60:02d}"
    number = f"{value:,.2f}".rstrip("0").rstrip(".") if value != value.to_integral() else f"{value:,.0f}"
    if measurement_type == MeasurementType.PERCENTAGE:
        return f"{number}%"
    if measurement_type == MeasurementType.CURRENCY:
        return f"${number}"
    return number


def format_percent(fraction) -> str:
    """A relative change stored as a fraction (−0.123) as a signed percentage (−12.3%)."""
    if fraction is None:
        return "—"
    return f"{Decimal(fraction) * 100:+.1f}%".replace("-", "−")


@dataclass(frozen=True)
class Band:
    """The threshold band on the worse side of a baseline: values between ``yellow`` and ``red`` breach
    yellow, values beyond ``red`` breach red. ``below`` says which side is worse."""

    yellow: float
    red: float
    below: bool


def signal_band(signal, indicator) -> Band | None:
    """The band a percent signal draws around its baseline, from the thresholds detection applied to it
    (``Signal.yellow``/``red``: critical factor and liaison tolerance already in) through detection's own
    ``change_limits``, so the chart shows exactly what the check flagged against. ``None`` for other units, a
    missing baseline or a neutral indicator."""
    if signal is None or signal.unit != MeasureUnit.PERCENT or signal.baseline is None or signal.yellow is None:
        return None
    limits = change_limits(signal.baseline, signal.yellow, signal.red, indicator.desired_direction)
    if limits is None:
        return None
    yellow, red = limits
    return Band(yellow=float(yellow), red=float(red), below=indicator.desired_direction == Direction.UP)


def case_chart(*, flag, measurements: list, since: dt.date | None = None) -> tuple[SafeString, Band | None]:
    """The series chart of a case, marking its lead signal's period and band (the flag, inbox and briefing
    pages draw the same one): (chart, band)."""
    lead = flag.lead_signal
    band = signal_band(lead, flag.indicator)
    chart = series_chart(
        indicator=flag.indicator,
        measurements=measurements,
        flagged_period=lead.period if lead else None,
        band=band,
        since=since,
    )
    return chart, band


def _preliminary(measurement) -> str:
    """ " (preliminary)" for a preliminary value (a PMMR 4-month figure, a projection): the charts draw it hollow."""
    return " (preliminary)" if getattr(measurement, "preliminary", False) else ""


def _scale(lo: float, hi: float, top: float, bottom: float):
    if hi == lo:
        lo, hi = lo - 1, hi + 1
    return lambda v: bottom - (v - lo) / (hi - lo) * (bottom - top)


def sparkline(values: list, *, label: str, width: int = 120, height: int = 28) -> SafeString:
    """A small line of the series with its last point marked; decorative beside the printed latest value,
    so it carries a short text alternative only."""
    points = [float(v) for v in values if v is not None]
    if len(points) < 2:
        return mark_safe('<span class="sparkline-empty">no trend</span>')
    pad = 3
    y = _scale(min(points), max(points), pad, height - pad)
    step = (width - 2 * pad) / (len(points) - 1)
    coords = [(pad + i * step, y(v)) for i, v in enumerate(points)]
    path = " ".join(f"{x:.1f},{yy:.1f}" for x, yy in coords)
    lx, ly = coords[-1]
    return mark_safe(  # noqa: S308 (numbers, and the label through escape())
        f'<svg class="sparkline" role="img" width="{width}" height="{height}" viewBox="0 0 {width} {height}">'
        f"<title>{escape(label)}</title>"
        f'<polyline fill="none" stroke="currentColor" stroke-width="1.5" points="{path}"/>'
        f'<circle cx="{lx:.1f}" cy="{ly:.1f}" r="2.5" fill="currentColor"/></svg>'
    )


@dataclass(frozen=True)
class _Frame:
    """The plotting area of a series chart and its scales."""

    left: float
    right: float
    top: float
    bottom: float
    n: int  # points
    lo: float
    hi: float

    def x(self, i: int) -> float:
        if self.n == 1:
            return (self.left + self.right) / 2
        return self.left + i * (self.right - self.left) / (self.n - 1)

    def y(self, v: float) -> float:
        return _scale(self.lo, self.hi, self.top, self.bottom)(v)


def _frame(values: list[float], target: float | None, band: Band | None, width: int, height: int) -> tuple:
    """The frame, with room for the target and the band, and the margin added around the values."""
    extra = [*values, *([target] if target is not None else []), *([band.yellow, band.red] if band else [])]
    lo, hi = min(extra), max(extra)
    margin = (hi - lo) * 0.08 or abs(hi) * 0.1 or 1
    return _Frame(70, width - 20, 16, height - 34, len(values), lo - margin, hi + margin), margin


def _description(indicator, measurements: list, target, flagged_period, since: dt.date | None = None) -> str:
    kind = indicator.measurement_type
    desc = [
        f"{period_label(m.period, indicator.frequency)}: {format_value(m.value, kind)}{_preliminary(m)}"
        for m in measurements
    ]
    if target is not None:
        desc.append(f"target {format_value(target, kind)}")
    if flagged_period is not None:
        desc.append(f"flagged period {period_label(flagged_period, indicator.frequency)}")
    if since is not None:
        desc.append(f"project started {since.isoformat()}")
    return f'<desc id="chart-desc-{indicator.pk}">{escape("; ".join(desc))}</desc>'


def _axes(f: _Frame, margin: float, kind: str) -> list[str]:
    parts = [f'<line class="axis" x1="{f.left}" y1="{f.bottom}" x2="{f.right}" y2="{f.bottom}"/>']
    parts.extend(
        f'<text class="tick" x="{f.left - 6}" y="{f.y(v) + 4:.1f}" text-anchor="end">'
        f"{escape(format_value(v, kind))}</text>"
        f'<line class="grid" x1="{f.left}" y1="{f.y(v):.1f}" x2="{f.right}" y2="{f.y(v):.1f}"/>'
        for v in (f.hi - margin, f.lo + margin)
    )
    return parts


def _band(f: _Frame, band: Band, kind: str) -> list[str]:
    y1, y2 = sorted((f.y(band.yellow), f.y(band.red)))
    r1, r2 = sorted((f.y(band.red), f.bottom if band.below else f.top))
    width = f.right - f.left
    parts = [
        f'<rect class="band-yellow" x="{f.left}" y="{y1:.1f}" width="{width}" height="{y2 - y1:.1f}"/>',
        f'<rect class="band-red" x="{f.left}" y="{r1:.1f}" width="{width}" height="{r2 - r1:.1f}"/>',
    ]
    # The yellow label sits on the better side of its line, the red one on the worse side, so the two never
    # overlap however close the limits are.
    for name, v, worse_side in (("yellow", band.yellow, False), ("red", band.red, True)):
        below = worse_side == band.below
        parts.append(
            f'<text class="band-label" x="{f.right - 4}" y="{f.y(v) + (11 if below else -3):.1f}" text-anchor="end">'
            f"{name} limit {escape(format_value(v, kind))}</text>"
        )
    return parts


def _target(f: _Frame, target: float, kind: str) -> str:
    return (
        f'<line class="target" x1="{f.left}" y1="{f.y(target):.1f}" x2="{f.right}" y2="{f.y(target):.1f}"/>'
        f'<text class="target-label" x="{f.left + 4}" y="{f.y(target) - 4:.1f}">'
        f"target {escape(format_value(target, kind))}</text>"
    )


def _since_x(f: _Frame, periods: list[dt.date], since: dt.date) -> float:
    """Where the project's start falls on the chart: between the periods around it, in proportion to the days
    (the points are evenly spaced, one per period); at the right edge when it started after the last value,
    at the first point when before it."""
    after = next((i for i, period in enumerate(periods) if period >= since), None)
    if after is None:
        return f.right
    if after == 0 or periods[after] == since:
        return f.x(after)
    before = after - 1
    share = (since - periods[before]).days / max(1, (periods[after] - periods[before]).days)
    return f.x(before) + share * (f.x(after) - f.x(before))


def _since(f: _Frame, measurements: list, since: dt.date) -> list[str]:
    """A vertical marker at the project's start, labelled with its date (on the left of the marker when it
    stands in the right half, so that the label stays inside the chart)."""
    x = _since_x(f, [m.period for m in measurements], since)
    right_half = x > (f.left + f.right) / 2
    label_x, anchor = (x - 4, "end") if right_half else (x + 4, "start")
    return [
        f'<line class="since" x1="{x:.1f}" y1="{f.top}" x2="{x:.1f}" y2="{f.bottom}"/>',
        (
            f'<text class="since-label" x="{label_x:.1f}" y="{f.top + 10}" text-anchor="{anchor}">'
            f"project start {since.isoformat()}</text>"
        ),
    ]


def _points(f: _Frame, indicator, measurements: list, values: list[float], flagged_period) -> list[str]:
    parts = [
        f'<polyline class="series" points="{" ".join(f"{f.x(i):.1f},{f.y(v):.1f}" for i, v in enumerate(values))}"/>'
    ]
    label_every = max(1, f.n // 8)
    for i, m in enumerate(measurements):
        cx, cy = f.x(i), f.y(values[i])
        label = f"{period_label(m.period, indicator.frequency)}: {format_value(m.value, indicator.measurement_type)}"
        label += _preliminary(m)
        if flagged_period is not None and m.period == flagged_period:
            parts.append(
                f'<line class="flagged-rule" x1="{cx:.1f}" y1="{f.top}" x2="{cx:.1f}" y2="{f.bottom}"/>'
                f'<circle class="flagged" cx="{cx:.1f}" cy="{cy:.1f}" r="8">'
                f"<title>Flagged — {escape(label)}</title></circle>"
                f'<text class="flagged-label" x="{cx - 6:.1f}" y="{cy - 12:.1f}" text-anchor="end">flagged</text>'
            )
        point = "point preliminary" if _preliminary(m) else "point"
        parts.append(
            f'<circle class="{point}" cx="{cx:.1f}" cy="{cy:.1f}" r="3.5"><title>{escape(label)}</title></circle>'
        )
        if i % label_every == 0 or i == f.n - 1:
            parts.append(
                f'<text class="tick" x="{cx:.1f}" y="{f.bottom + 18}" text-anchor="middle">'
                f"{escape(period_label(m.period, indicator.frequency))}</text>"
            )
    return parts


def series_chart(
    *,
    indicator,
    measurements: list,
    flagged_period: dt.date | None = None,
    band: Band | None = None,
    since: dt.date | None = None,
    width: int = 640,
    height: int = 260,
) -> SafeString:
    """The indicator's series with its numeric target (dashed line), the threshold band (shaded, with the
    yellow and red limits labelled) and the flagged period (a ringed point and a vertical rule).
    ``measurements`` are objects with ``period`` and ``value``; ``since`` marks a project's start."""
    if not measurements:
        return mark_safe(f'<p class="chart-empty">No values recorded for {escape(indicator.name)}.</p>')  # noqa: S308
    kind = indicator.measurement_type
    values = [float(m.value) for m in measurements]
    target = float(indicator.target) if indicator.target is not None else None
    f, margin = _frame(values, target, band, width, height)
    parts = [
        (
            f'<svg class="series-chart" role="img" aria-labelledby="chart-title-{indicator.pk} '
            f'chart-desc-{indicator.pk}" viewBox="0 0 {width} {height}" width="100%" '
            'preserveAspectRatio="xMidYMid meet">'
        ),
        f'<title id="chart-title-{indicator.pk}">{escape(f"{indicator.name}: {len(measurements)} values")}</title>',
        _description(indicator, measurements, target, flagged_period, since),
        *_axes(f, margin, kind),
        *(_band(f, band, kind) if band is not None else []),
        *([_target(f, target, kind)] if target is not None else []),
        *(_since(f, measurements, since) if since is not None else []),
        *_points(f, indicator, measurements, values, flagged_period),
        "</svg>",
    ]
    return mark_safe("".join(parts))  # noqa: S308 (numbers, and every text through escape())
