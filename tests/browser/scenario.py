"""Demo flags on the real NYC data, for the browser tests and the screenshots. Flags are opened the way
detection opens them (status ``detected``, year-over-year rule, real values) and every later status is
reached through the services, as users reach it."""

import datetime as dt
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from escalations import services
from escalations.lifecycle import Severity
from escalations.models import Flag
from indicators.models import Direction, Indicator, Measurement, RuleKind, ThresholdRule

from ..factories import FlagFactory


def _yoy_breaches(limit: int) -> list[tuple]:
    """(indicator, period, value, baseline, change, worse_by) of the worst year-over-year slips."""
    series: dict[int, list] = {}
    for m in Measurement.objects.order_by("indicator_id", "period").only("indicator_id", "period", "value"):
        series.setdefault(m.indicator_id, []).append(m)
    indicators = Indicator.objects.in_bulk(list(series))
    found = []
    for pk, points in series.items():
        indicator = indicators[pk]
        if len(points) < 2 or indicator.desired_direction == Direction.NEUTRAL or not points[-2].value:
            continue
        value, baseline = points[-1].value, points[-2].value
        change = (value - baseline) / abs(baseline)
        worse = max(Decimal(0), -change if indicator.desired_direction == Direction.UP else change)
        if Decimal("0.05") <= worse <= Decimal("0.6"):
            found.append((indicator, points[-1].period, value, baseline, change, worse))
    found.sort(key=lambda row: (row[0].agency.code not in ("DSNY", "DOT"), -row[5]))
    return found[:limit]


def build_flags(limit: int = 40) -> list[Flag]:
    rule = ThresholdRule.objects.get(kind=RuleKind.YEAR_OVER_YEAR)
    flags = []
    for indicator, period, value, baseline, change, worse in _yoy_breaches(limit):
        flags.append(
            FlagFactory(
                indicator=indicator,
                rule=rule,
                period=period,
                value=value,
                baseline=baseline,
                change=change.quantize(Decimal("0.000001")),
                worse_by=worse.quantize(Decimal("0.000001")),
                severity=Severity.RED if worse >= Decimal("0.10") else Severity.YELLOW,
                detected_at=timezone.now() - dt.timedelta(days=len(flags) % 9),
            )
        )
    return flags


def build_story() -> dict:
    """Flags in several statuses (needs ``seed_demo``'s accounts): some in review, one escalated to the
    deputy mayor, one dismissed, one made a project."""
    User = get_user_model()
    liaison, lead, deputy = (User.objects.get(username=n) for n in ("liaison", "lead", "deputy"))
    flags = build_flags()
    mine = [f for f in flags if f.indicator.agency.code in ("DSNY", "DOT")]
    reviewed = services.flag_review(flag=mine[1], actor=liaison)
    services.flag_add_note(
        flag=reviewed, actor=liaison, kind="agency_intel", source="call with DSNY chief of staff",
        body="Chief of staff: staff vacancies explain most of the slip; a hiring plan is due next month.",
    )  # fmt: skip
    escalated = services.flag_review(flag=mine[2], actor=liaison)
    services.flag_add_note(
        flag=escalated, actor=liaison, kind="agency_intel", body="The agency confirms the slip is real."
    )
    escalated = services.flag_escalate(
        flag=escalated, actor=liaison, summary="A sustained slip the agency cannot fix alone.",
        recommendation="Make it an Operations project with the agency.", urgency="high",
    )  # fmt: skip
    dismissed = services.flag_dismiss(
        flag=mine[3], actor=liaison, reason_code="expected_seasonal", note="Snow season moved the numbers."
    )
    project_flag = services.flag_review(flag=mine[4], actor=liaison)
    project_flag = services.flag_convert(
        flag=project_flag, actor=lead, title=f"Turn around: {project_flag.indicator.name[:80]}",
        owner=User.objects.get(username="pm"),
    )  # fmt: skip
    return {
        "flags": flags,
        "detected": mine[0],
        "reviewed": reviewed,
        "escalated": escalated,
        "dismissed": dismissed,
        "project_flag": project_flag,
        "deputy": deputy,
    }
