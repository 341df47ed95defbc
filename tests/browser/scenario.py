"""Demo flags on the real NYC data, for the browser tests and the screenshots: the real check opens them
and every later status is reached through the services, as users reach it."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.test import override_settings

from escalations import services
from escalations.models import Flag
from escalations.priority import priority_of
from escalations.services.checks import check_run_start
from indicators.models import CheckRunMode
from indicators.selectors import check_default_as_of


def demo_as_of() -> dt.date:
    """The date `make run` checks the shipped data as of: the date the data runs through."""
    with override_settings(PERCOLATE_BLANK_AS_OF="data"):
        return check_default_as_of().date


def build_flags() -> list[Flag]:
    """The cases the real check opens on the shipped data (as of the demo's date, as `make run`), highest
    priority first."""
    check_run_start(mode=CheckRunMode.FULL, as_of=demo_as_of())
    return sorted(
        Flag.objects.select_related("indicator__agency").prefetch_related("signals"),
        key=lambda flag: (-priority_of(flag), flag.pk),
    )


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
