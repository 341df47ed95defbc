"""A case's priority: the one formula that puts "a 5 % slip that matters" above "a 10 % slip that does not".

    priority = severity            red 30, yellow 15
             + critical indicator  20
             + public impact       5 × the indicator's public-impact weight (1 ordinary … 5 severe)
             + beyond threshold    3 per multiple of its yellow threshold beyond the first, at most 15
             + age                 1 per full week open, at most 10

The triage queue sorts by it (computed in the database, ``priority_annotation``) and the pages and the API
show the same number with its terms (``priority_terms``), so a liaison can see why a case ranks high. A
critical 5 % slip (yellow 15 + critical 20 + weight 5 = 40) outranks an ordinary 10 % one (red 30 + weight 5
+ 3 for twice a 5 % threshold = 38)."""

import datetime as dt
from decimal import ROUND_CEILING, Decimal

from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from .lifecycle import Severity

SEVERITY_POINTS = {Severity.RED: 30, Severity.YELLOW: 15}
CRITICAL_POINTS = 20
WEIGHT_POINTS = 5
BEYOND_POINTS, BEYOND_MAX = 3, 15
AGE_MAX_WEEKS = 10
BEYOND_CAP = Decimal(10)

# The formula in one sentence, as the queue page and the API's schema print it.
PRIORITY_FORMULA = (
    f"Priority = severity (red {SEVERITY_POINTS[Severity.RED]}, yellow {SEVERITY_POINTS[Severity.YELLOW]}) "
    f"+ {CRITICAL_POINTS} for a critical indicator + {WEIGHT_POINTS} × the public-impact weight (1–5) "
    f"+ {BEYOND_POINTS} per multiple of the yellow threshold beyond the first (at most {BEYOND_MAX}) "
    f"+ 1 per week open (at most {AGE_MAX_WEEKS})."
)


def beyond_threshold(measure, yellow) -> Decimal | None:
    """A measure as a multiple of its yellow threshold, capped at 10 (a threshold of 0: anything worse is
    at the cap). ``None`` when nothing was measured."""
    if measure is None:
        return None
    measure = Decimal(measure)
    if not yellow:
        return BEYOND_CAP if measure > 0 else Decimal(0)
    return min(BEYOND_CAP, measure / Decimal(yellow)).quantize(Decimal("0.01"))


def _beyond_points(beyond) -> int:
    if beyond is None:
        return 0
    return max(0, min(BEYOND_MAX, int((Decimal(beyond) - 1) * BEYOND_POINTS)))


def _weeks_open(detected_at: dt.datetime, now: dt.datetime) -> int:
    return min(AGE_MAX_WEEKS, max(0, (now - detected_at).days // 7))


def priority_terms(flag, now: dt.datetime | None = None) -> list[tuple[str, int]]:
    """The formula's terms for one case, as (words, points), largest first; they add up to its priority."""
    now = now or timezone.now()
    indicator = flag.indicator
    terms = [(f"{flag.get_severity_display().lower()}", SEVERITY_POINTS[flag.severity])]
    if indicator.critical:
        terms.append(("critical indicator", CRITICAL_POINTS))
    weight = indicator.public_impact_weight
    terms.append((f"public impact {weight} of 5", WEIGHT_POINTS * weight))
    if points := _beyond_points(flag.beyond):
        terms.append((f"{flag.beyond:.1f}× its threshold", points))
    if weeks := _weeks_open(flag.detected_at, now):
        terms.append((f"open {weeks} week{'s' if weeks != 1 else ''}", weeks))
    return sorted(terms, key=lambda term: -term[1])


def priority_of(flag, now: dt.datetime | None = None) -> int:
    return sum(points for _words, points in priority_terms(flag, now))


def priority_annotation(now: dt.datetime | None = None):
    """The same formula as a database expression over a ``Flag`` queryset (joined to its indicator)."""
    now = now or timezone.now()
    integer: IntegerField[int, int] = IntegerField()
    severity = Case(
        *(When(severity=s, then=Value(p)) for s, p in SEVERITY_POINTS.items()), default=Value(0), output_field=integer
    )
    critical = Case(When(indicator__critical=True, then=Value(CRITICAL_POINTS)), default=Value(0), output_field=integer)
    weight = F("indicator__public_impact_weight") * WEIGHT_POINTS
    # Whole points, as ``_beyond_points`` truncates them: a CASE over the smallest stored ``beyond`` (two
    # decimals) that earns each point, so both databases give the same integer.
    beyond = Case(
        *(
            When(beyond__gte=(Decimal(p) / BEYOND_POINTS + 1).quantize(Decimal("0.01"), ROUND_CEILING), then=Value(p))
            for p in range(BEYOND_MAX, 0, -1)
        ),
        default=Value(0),
        output_field=integer,
    )
    # A week open is a point, up to the cap: one CASE over the thresholds, so no database date arithmetic.
    age = Case(
        *(
            When(detected_at__lte=now - dt.timedelta(weeks=weeks), then=Value(weeks))
            for weeks in range(AGE_MAX_WEEKS, 0, -1)
        ),
        default=Value(0),
        output_field=integer,
    )
    return severity + critical + weight + beyond + age
