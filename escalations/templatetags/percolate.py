"""Template helpers of the pages: RAG and severity badges, charts, and value/period formatting. The drawing
itself lives in ``escalations.charts``."""

from decimal import Decimal

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .. import charts, wording
from ..audit_trail import verb_label
from ..case_signals import breach_sentence, event_signal_sentences, measure_text
from ..lifecycle import DismissReason, FlagStatus, ProjectStatus
from ..priority import priority_terms

register = template.Library()

# An icon per status so that colour is never the only carrier of meaning: the text label is always printed
# next to it, and the shapes differ (octagon, triangle, circle).
ICONS = {
    "red": '<svg class="icon" aria-hidden="true" focusable="false" viewBox="0 0 16 16" width="14" height="14">'
    '<polygon points="5,1 11,1 15,5 15,11 11,15 5,15 1,11 1,5" fill="currentColor"/>'
    '<rect x="7" y="4" width="2" height="5" fill="#fff"/><rect x="7" y="10.5" width="2" height="2" fill="#fff"/></svg>',
    "yellow": '<svg class="icon" aria-hidden="true" focusable="false" viewBox="0 0 16 16" width="14" height="14">'
    '<polygon points="8,1 15,15 1,15" fill="currentColor"/>'
    '<rect x="7" y="6" width="2" height="4.5" fill="#fff"/>'
    '<rect x="7" y="11.5" width="2" height="2" fill="#fff"/></svg>',
    "green": '<svg class="icon" aria-hidden="true" focusable="false" viewBox="0 0 16 16" width="14" height="14">'
    '<circle cx="8" cy="8" r="7" fill="currentColor"/>'
    '<polyline points="4.5,8.5 7,11 11.5,5.5" fill="none" stroke="#fff" stroke-width="2"/></svg>',
    "": '<svg class="icon" aria-hidden="true" focusable="false" viewBox="0 0 16 16" width="14" height="14">'
    '<circle cx="8" cy="8" r="6" fill="none" stroke="currentColor" stroke-width="2"/></svg>',
}
LABELS = {"red": "Red", "yellow": "Yellow", "green": "Green", "": "Not checked"}


@register.simple_tag
def rag_badge(rag: str, prefix: str = ""):
    """The RAG status as colour, icon and text ("Red"); blank: no check has looked at the indicator yet."""
    rag = rag if rag in LABELS else ""
    return format_html(
        '<span class="rag rag-{}">{}{}{}</span>',
        rag or "unchecked",
        mark_safe(ICONS[rag]),  # noqa: S308 (a constant of this module)
        f"{prefix} " if prefix else "",
        LABELS[rag],
    )


@register.simple_tag
def triage_status(indicator):
    """What people decided about an indicator's latest performance case, to print beside its colour:
    "dismissed: explained by the agency", "in review", or nothing when it never had one."""
    status = getattr(indicator, "case_status", None)
    if not status:
        return ""
    text = FlagStatus(status).label.lower()
    reason = getattr(indicator, "case_dismiss_reason", "")
    if status == FlagStatus.DISMISSED and reason in DismissReason.values:
        text += f": {DismissReason(reason).label.lower()}"
    return format_html('<span class="triage">· case {}</span>', text)


@register.simple_tag
def sparkline(measurements, label: str = "trend"):
    return charts.sparkline([m.value for m in measurements or ()], label=label)


@register.filter
def value_fmt(value, indicator):
    return charts.format_value(value, getattr(indicator, "measurement_type", "number"))


@register.filter
def period_fmt(period, indicator):
    return charts.period_label(period, getattr(indicator, "frequency", "annual"))


@register.filter
def number(value) -> str:
    """A number as typed, without the trailing zeros of its column: ``2.5`` for a stored ``2.5000``."""
    if value is None or value == "":
        return ""
    return format(Decimal(value).normalize(), "f")


@register.filter
def pct(fraction):
    return charts.format_percent(fraction)


@register.filter
def measure(signal) -> str:
    """A signal's measure in its unit: "12.1 %", "3.2 σ", "5 periods", "45 days"."""
    return measure_text(signal.measure, signal.unit) or "—"


@register.filter
def threshold(value, signal) -> str:
    """A threshold of ``signal`` in its unit."""
    return measure_text(value, signal.unit) or "—"


@register.filter
def sentence(signal, indicator) -> str:
    """A signal as a sentence about its period: "FY2024 is 12.1 % worse than a year earlier"."""
    return breach_sentence(signal, indicator)


@register.filter
def why_priority(flag) -> str:
    """The terms of a case's priority, largest first: "red 30 · critical indicator 20 · …"."""
    return " · ".join(f"{reason} {points}" for reason, points in priority_terms(flag))


@register.filter
def signal_lines(event) -> list[str]:
    """The signals an event recorded (detection, re-raise, resumption), as sentences with their severity."""
    data = event.data if isinstance(event.data, dict) else {}
    if not (data.get("signals") or data.get("cleared")) or not event.indicator_id:
        return []
    return event_signal_sentences(data, event.indicator)


@register.filter
def status_label(code: str) -> str:
    """A case's or a project's status by its label."""
    for statuses in (FlagStatus, ProjectStatus):
        if code in statuses.values:
            return str(statuses(code).label)
    return code


@register.filter
def verb(code: str) -> str:
    return verb_label(code)


@register.filter
def event_sentence(event) -> str:
    """One event as a sentence (``escalations.wording``): "Dana Liaison dismissed it: explained by the agency —
    ‘one-off vendor delay’"."""
    return wording.event_sentence(event)


@register.simple_tag
def event_lines(events, label_cases=None, names=None) -> list[wording.EventLine]:
    """``{% event_lines events as lines %}``: each event with its sentence, people named in one query (or by
    ``names``, read once for a whole page), and its case when the events belong to several cases."""
    return wording.event_lines(events, label_cases=label_cases, names=names)
