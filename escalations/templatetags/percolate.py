"""Template helpers of the pages: RAG and severity badges, charts, and value/period formatting. The drawing
itself lives in ``escalations.charts``."""

from django import template
from django.utils.html import format_html
from django.utils.safestring import mark_safe

from .. import charts
from ..audit import verb_label
from ..lifecycle import FlagStatus

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
}
LABELS = {"red": "Red", "yellow": "Yellow", "green": "Green"}


@register.simple_tag
def rag_badge(rag: str, prefix: str = ""):
    """The RAG status as colour, icon and text ("Red")."""
    rag = rag if rag in LABELS else "green"
    return format_html(
        '<span class="rag rag-{}">{}{}{}</span>',
        rag,
        mark_safe(ICONS[rag]),
        f"{prefix} " if prefix else "",
        LABELS[rag],
    )


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
def pct(fraction):
    return charts.format_percent(fraction)


@register.filter
def worse(fraction) -> str:
    """How much worse than the baseline, unsigned: "12.3% worse"."""
    if fraction is None:
        return "—"
    return charts.format_percent(fraction).lstrip("+−") + " worse"


@register.filter
def status_label(code: str) -> str:
    return FlagStatus(code).label if code in FlagStatus.values else code


@register.filter
def verb(code: str) -> str:
    return verb_label(code)


# Keys of an event's data worth showing in a timeline, in this order.
DETAIL_KEYS = (
    "reason_code",
    "reason",
    "note",
    "summary",
    "recommendation",
    "urgency",
    "question",
    "resolution",
    "body",
    "source",
    "old",
    "new",
    "until",
    "title",
    "severity",
    "changes",
)


@register.filter
def event_details(data) -> list[tuple[str, str]]:
    """(label, text) pairs of what an event recorded: the reason, note, old and new values."""
    if not isinstance(data, dict):
        return []
    pairs = []
    for key in DETAIL_KEYS:
        value = data.get(key)
        if value in (None, "", {}, []) or (key == "note" and not isinstance(value, str)):
            # A note event's "note" is the note's id; its text is under "body".
            continue
        if isinstance(value, dict):
            value = "; ".join(f"{k}: {v}" for k, v in value.items())
        pairs.append((key.replace("_", " "), str(value)))
    return pairs


@register.filter
def person(user, empty: str = "—") -> str:
    """A user's full name, else username; ``empty`` for nobody."""
    if user is None:
        return empty
    return user.get_full_name() or user.get_username()
