"""Business days on New York City's calendar, and the due date of each step of a flag's life.

A business day is a weekday that is neither an official holiday of New York (the ``holidays`` package, United
States / NY, which includes Lincoln's Birthday and Election Day as city offices observe them) nor a local
closure an admin added. Deadlines fall at the end of the business day (17:00 in New York)."""

import datetime as dt
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from django.core.cache import cache

from .lifecycle import FlagStatus, Severity
from .models import Closure, SlaPolicy

NEW_YORK = ZoneInfo("America/New_York")
END_OF_DAY = dt.time(17, 0)


@lru_cache(maxsize=64)
def _official_holidays(year: int) -> frozenset[dt.date]:
    """New York's official holidays of ``year``, kept in the cache (Redis, shared by every process): the
    ``holidays`` package loads the calendars of every country on first use, a fifth of a second of each
    ``run_checks`` process that opens a case."""
    key = f"percolate:holidays:US-NY:{holidays.__version__}:{year}"
    kept = cache.get(key)
    if kept is None:
        kept = sorted(day.isoformat() for day in holidays.country_holidays("US", subdiv="NY", years=year))
        cache.set(key, kept, timeout=30 * 24 * 3600)
    return frozenset(dt.date.fromisoformat(day) for day in kept)


def non_business_days(start: dt.date, end: dt.date) -> frozenset[dt.date]:
    """Holidays and closures between ``start`` and ``end`` (weekends are handled by the caller)."""
    official: set[dt.date] = set()
    for year in range(start.year, end.year + 1):
        official |= _official_holidays(year)
    closures = Closure.objects.filter(date__range=(start, end)).values_list("date", flat=True)
    return frozenset(official | set(closures))


def add_business_days(moment: dt.datetime, days: int) -> dt.datetime:
    """The end (17:00 New York time) of the ``days``-th business day after ``moment``'s day."""
    day = moment.astimezone(NEW_YORK).date()
    # Enough calendar days to cover the weekends and holidays of any realistic SLA.
    closed = non_business_days(day, day + dt.timedelta(days=days * 2 + 30))
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in closed:
            remaining -= 1
    return dt.datetime.combine(day, END_OF_DAY, tzinfo=NEW_YORK)


def due_at_for(
    *, status: str, severity: str, since: dt.datetime, policy: SlaPolicy | None = None
) -> dt.datetime | None:
    """When the flag's current step is due: starting review for a detected flag, the deputy mayor's decision
    for an escalated one; other steps have no deadline."""
    policy = policy or SlaPolicy.current()
    if status == FlagStatus.DETECTED:
        days = policy.review_days_red if severity == Severity.RED else policy.review_days_yellow
        return add_business_days(since, days)
    if status == FlagStatus.ESCALATED:
        return add_business_days(since, policy.decision_days)
    return None
