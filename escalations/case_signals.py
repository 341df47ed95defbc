"""What a signal says in words, and the one rule of when a check re-raises a decided case.

**Decisions stick.** A dismissed or resolved case, or one being monitored, keeps its signals as the decision
saw them. A later check re-raises it (a new case linked to the old one; a monitored case resumes) only when

(a) a later period breaches,
(b) a value it was decided on was restated, or
(c) the breach materially worsened: a higher severity than the decision saw, or a measure worse by more than
    the rule's yellow threshold beyond what it saw (its red threshold when yellow is 0: a reporting gap grows
    by a day every day, and would otherwise come back every morning).

Anything else is the same thing seen again, and nothing is written. ``reraise_reason`` says why in words, or
``None``."""

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal

from indicators.models import MeasureUnit, RuleKind

from .charts import format_value, period_label

SEVERITY_RANK = {"yellow": 1, "red": 2}

_REFERENCE: dict[str, str] = {
    RuleKind.PERIOD_CHANGE: "the period before",
    RuleKind.YEAR_OVER_YEAR: "a year earlier",
    RuleKind.TARGET: "its target",
    RuleKind.TREND_AVERAGE: "its trend average",
}


def measure_text(measure, unit: str) -> str:
    """A measure in its unit: ``12.1 %``, ``3.2 σ``, ``5 periods``, ``45 days``."""
    if measure is None:
        return ""
    measure = Decimal(measure)
    if unit == MeasureUnit.PERCENT:
        return f"{measure:.1f} %"
    if unit == MeasureUnit.SIGMA:
        return f"{measure:.1f} σ"
    count = int(measure)
    nouns: dict[str, str] = {MeasureUnit.PERIODS: "period", MeasureUnit.DAYS: "day"}
    noun = nouns.get(unit, "")
    return f"{count} {noun}{'' if count == 1 else 's'}".strip()


def signal_sentence(*, kind: str, measure, unit: str, period: str, still: bool = False, red=None) -> str:
    """One signal as a sentence about its period: "FY2024 is 12.1 % worse than a year earlier". ``red``: the
    red threshold, for the counting kinds, whose count stops there ("at least 5 periods")."""
    is_ = "is still" if still else "is"
    amount = measure_text(measure, unit)
    if unit == MeasureUnit.PERIODS and red is not None and measure is not None and measure >= red:
        amount = f"at least {amount}"
    if kind in _REFERENCE:
        if measure is None:  # a zero baseline: any worse value breaches
            return f"{period} {is_} worse than {_REFERENCE[kind]}, which was 0"
        return f"{period} {is_} {amount} worse than {_REFERENCE[kind]}"
    if kind == RuleKind.CONTROL_LIMIT:
        return f"{period} {is_} {amount} beyond its usual range" if amount else f"{period} {is_} off a flat history"
    if kind == RuleKind.UNUSUAL_CHANGE:
        worse = f"{amount} worse" if amount else "worse, from a zero,"
        return f"{period} {is_} {worse} than the same period before, more than the indicator usually moves"
    if kind == RuleKind.SUSTAINED:
        return f"{period} {'still ' if still else ''}ends {amount} of decline in a row"
    if kind == RuleKind.STALE:
        return f"{period} {is_} missing, {amount} overdue"
    if kind == RuleKind.SAWTOOTH:
        return f"{period} {'still ' if still else ''}drops after {amount} of rising"
    if kind == RuleKind.IMPOSSIBLE_VALUE:
        return f"{period} {'still ' if still else ''}has an impossible value"
    return f"{period} {is_} {amount}".strip()


def breach_sentence(breach, indicator, still: bool = False) -> str:
    """A breach (``indicators.detection.Breach`` or a signal) as a sentence about its period."""
    return signal_sentence(
        kind=breach.kind,
        measure=breach.measure,
        unit=breach.unit,
        period=period_label(breach.period, indicator.frequency),
        still=still,
        red=breach.red,
    )


def reraise_reason(breach, seen: Mapping[int, Mapping], seen_severity: str, indicator) -> str | None:
    """Why ``breach`` re-raises a case whose decision saw the signals ``seen`` (rule id → the signal's
    ``period``, ``value``, ``measure``, ``unit``, ``severity``, ``yellow``, ``red``) and the case severity
    ``seen_severity``; ``None`` when it is the same thing seen again. ``indicator`` gives the frequency and
    measurement type the words need."""
    signal = seen.get(breach.rule_id)
    if signal is None:
        # A rule the decision did not see: news only for a later period, or a worse severity than the case had.
        periods = [s["period"] for s in seen.values()]
        if not periods or breach.period > max(periods):
            return breach_sentence(breach, indicator)
        if SEVERITY_RANK[breach.severity] > SEVERITY_RANK.get(seen_severity, 0):
            return f"worsened from {seen_severity} to {breach.severity}: {breach_sentence(breach, indicator)}"
        return None
    if breach.period > signal["period"]:
        return breach_sentence(breach, indicator, still=True)
    if breach.period < signal["period"]:  # a check for an earlier date
        return None
    if breach.value is not None and signal["value"] is not None and breach.value != signal["value"]:
        label = period_label(breach.period, indicator.frequency)
        old, new = (format_value(v, indicator.measurement_type) for v in (signal["value"], breach.value))
        return f"the {label} value was restated from {old} to {new}: {breach_sentence(breach, indicator)}"
    if SEVERITY_RANK[breach.severity] > SEVERITY_RANK[signal["severity"]]:
        return f"worsened from {signal['severity']} to {breach.severity}: {breach_sentence(breach, indicator)}"
    if breach.measure is not None and signal["measure"] is not None and breach.unit == signal["unit"]:
        margin = signal["yellow"] or signal["red"] or 0
        if breach.measure - signal["measure"] > margin:
            was, now = measure_text(signal["measure"], signal["unit"]), measure_text(breach.measure, breach.unit)
            return f"worsened from {was} to {now}: {breach_sentence(breach, indicator)}"
    return None


def signal_summary(signal) -> str:
    """A signal in a few words for a list, a CSV cell or an e-mail: "Year-over-year slip: 12.1 % (red)"."""
    amount = measure_text(signal.measure, signal.unit)
    state = signal.severity if signal.cleared_at is None else "cleared"
    preliminary = ", preliminary" if signal.preliminary else ""
    return f"{signal.rule.name}: {amount} ({state}{preliminary})" if amount else f"{signal.rule.name} ({state})"


def event_signal_sentences(data, indicator) -> list[str]:
    """The signals an event's ``data`` recorded (as detection wrote them: ``signals`` and ``cleared``) in
    words, for timelines and e-mails."""
    if not isinstance(data, dict):
        return []
    lines = []
    for signal in data.get("signals") or ():
        try:
            period = dt.date.fromisoformat(signal["period"])
            measure = Decimal(signal["measure"]) if signal.get("measure") is not None else None
            text = signal_sentence(
                kind=signal["kind"],
                measure=measure,
                unit=signal.get("unit", ""),
                period=period_label(period, indicator.frequency),
            )
        except (KeyError, TypeError, ValueError, ArithmeticError):
            continue  # an event written before signals existed
        lines.append(f"{text} ({signal.get('severity', '')}{', preliminary' if signal.get('preliminary') else ''})")
    cleared = data.get("cleared") or ()
    if cleared:
        lines.append(f"{len(cleared)} signal{'s' if len(cleared) != 1 else ''} cleared")
    return lines
