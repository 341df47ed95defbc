"""Reaching any flag status the way users do: through the services."""

import datetime as dt

import pytest
from django.utils import timezone

from core.permissions import Role
from escalations import services
from escalations.lifecycle import Action, FlagStatus

from ..factories import FlagFactory

# The path of actions (and the role taking each) that leads from ``detected`` to each status.
PATHS: dict[str, list[tuple[Action, str]]] = {
    FlagStatus.DETECTED: [],
    FlagStatus.IN_REVIEW: [(Action.REVIEW, Role.LIAISON)],
    FlagStatus.MONITORING: [(Action.REVIEW, Role.LIAISON), (Action.MONITOR, Role.LIAISON)],
    FlagStatus.ESCALATED: [(Action.REVIEW, Role.LIAISON), (Action.ESCALATE, Role.LIAISON)],
    FlagStatus.AGENCY_MANAGED: [
        (Action.REVIEW, Role.LIAISON),
        (Action.ESCALATE, Role.LIAISON),
        (Action.DELEGATE, Role.DEPUTY_MAYOR),
    ],
    FlagStatus.PROJECT: [(Action.REVIEW, Role.LIAISON), (Action.CONVERT, Role.OPS_LEAD)],
    FlagStatus.DISMISSED: [(Action.DISMISS, Role.LIAISON)],
    FlagStatus.RESOLVED: [(Action.REVIEW, Role.LIAISON), (Action.RESOLVE, Role.LIAISON)],
}


def action_input(action: Action, ctx: dict) -> dict:
    """Valid input for each action."""
    return {
        Action.REVIEW: {},
        Action.ASSIGN: {"assignee": ctx["liaison"]},
        Action.SET_SEVERITY: {"severity": "red", "reason": "Affects the public a lot"},
        Action.MONITOR: {"until": timezone.localdate() + dt.timedelta(days=30), "reason": "Waiting for next month"},
        Action.RESUME: {},
        Action.DISMISS: {"reason_code": "data_error", "note": "Agency mis-keyed the value"},
        Action.ESCALATE: {"summary": "Slipping badly", "recommendation": "Make it a project", "urgency": "high"},
        Action.RETURN: {"question": "What does the agency say?"},
        Action.DELEGATE: {"note": "We will handle it with the commissioner"},
        Action.CONVERT: {"title": "Fix the backlog"},
        Action.RESOLVE: {"resolution": "Back on track"},
        Action.REOPEN: {"reason": "It came back"},
        Action.NOTE: {"body": "Chief of staff says staffing is short", "kind": "agency_intel"},
    }[action]


def perform(action: Action, flag, actor, ctx: dict):
    return services.ACTION_SERVICES[action](flag=flag, actor=actor, **action_input(action, ctx))


@pytest.fixture
def ctx(liaison, lead, deputy, pm, auditor):
    return {
        "liaison": liaison,
        Role.LIAISON: liaison,
        Role.OPS_LEAD: lead,
        Role.DEPUTY_MAYOR: deputy,
        Role.PROJECT_MANAGER: pm,
        Role.AUDITOR: auditor,
    }


@pytest.fixture
def flag_in(ctx, agency):
    """flag_in(status) → a flag of ``agency`` brought to ``status`` through the services."""

    def make(status: str):
        flag = FlagFactory.create(indicator__agency=agency)
        for action, role in PATHS[status]:
            flag = perform(action, flag, ctx[role], ctx)
        assert flag.status == status
        return flag

    return make
