"""The transition table, enumerated: every status × action, every role, and scope."""

import pytest

from core.errors import ActionForbidden, TransitionNotAllowed
from core.permissions import Role
from escalations.lifecycle import TRANSITIONS, Action, FlagStatus
from escalations.models import Event, Flag

from ..factories import AgencyFactory
from .conftest import perform

ALL_PAIRS = [(status, action) for status in FlagStatus.values for action in Action]


@pytest.fixture
def everyone(make_user, agency):
    """A user holding every role, with scope over ``agency``: only the status can refuse them."""
    return make_user(*Role.values, agencies=[agency], portfolios=[agency.portfolio], username="everyone")


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "action"), ALL_PAIRS, ids=[f"{s}-{a.value}" for s, a in ALL_PAIRS])
def test_every_status_action_pair(status, action, flag_in, everyone, ctx):
    flag = flag_in(status)
    events_before = Event.objects.count()
    transition = TRANSITIONS[action]
    if status not in transition.allowed:
        with pytest.raises(TransitionNotAllowed):
            perform(action, flag, everyone, ctx)
        assert Event.objects.count() == events_before
        assert Flag.objects.get(pk=flag.pk).status == status
        return
    perform(action, flag, everyone, ctx)
    flag.refresh_from_db()
    assert flag.status == (transition.target or status)
    events = list(Event.objects.order_by("pk")[events_before:])
    assert len(events) == 1
    event = events[0]
    assert (event.actor, event.verb, event.flag_id) == (everyone, transition.verb, flag.pk)
    assert (event.from_status, event.to_status) == (status, flag.status)


ALLOWED = [
    (status, action, role)
    for action, transition in TRANSITIONS.items()
    for status in transition.allowed
    for role in [Role.LIAISON, Role.OPS_LEAD, Role.DEPUTY_MAYOR, Role.PROJECT_MANAGER, Role.AUDITOR, Role.ADMIN]
]


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "action", "role"), ALLOWED, ids=[f"{s}-{a.value}-{r}" for s, a, r in ALLOWED])
def test_each_role_in_scope(status, action, role, flag_in, make_user, agency, ctx):
    """A user with only ``role`` (and scope over the flag's agency) may act exactly when the table says."""
    actor = make_user(
        role,
        agencies=[agency] if role == Role.LIAISON else [],
        portfolios=[agency.portfolio] if role == Role.DEPUTY_MAYOR else [],
    )
    flag = flag_in(status)
    events_before = Event.objects.count()
    if role in TRANSITIONS[action].allowed[status]:
        perform(action, flag, actor, ctx)
        assert Event.objects.count() == events_before + 1
    else:
        with pytest.raises(ActionForbidden):
            perform(action, flag, actor, ctx)
        assert Event.objects.count() == events_before
        assert Flag.objects.get(pk=flag.pk).status == status


SCOPED = [
    (status, action, role)
    for action, transition in TRANSITIONS.items()
    for status, roles in transition.allowed.items()
    for role in sorted(roles & {Role.LIAISON, Role.DEPUTY_MAYOR})
]


@pytest.mark.django_db
@pytest.mark.parametrize(("status", "action", "role"), SCOPED, ids=[f"{s}-{a.value}-{r}" for s, a, r in SCOPED])
def test_out_of_scope_is_refused(status, action, role, flag_in, make_user, ctx):
    """A liaison of another agency, or the deputy mayor of another portfolio, is refused and writes nothing."""
    elsewhere = AgencyFactory()
    actor = make_user(role, agencies=[elsewhere], portfolios=[elsewhere.portfolio])
    flag = flag_in(status)
    events_before = Event.objects.count()
    with pytest.raises(ActionForbidden):
        perform(action, flag, actor, ctx)
    assert Event.objects.count() == events_before
    assert Flag.objects.get(pk=flag.pk).status == status


def test_table_covers_the_design():
    """Spot-check rows of the design's table that a careless edit would break."""
    assert TRANSITIONS[Action.CONVERT].allowed == {
        FlagStatus.IN_REVIEW: {Role.OPS_LEAD},
        FlagStatus.ESCALATED: {Role.DEPUTY_MAYOR, Role.OPS_LEAD},
    }
    assert TRANSITIONS[Action.RESOLVE].allowed[FlagStatus.PROJECT] == {Role.PROJECT_MANAGER}
    assert TRANSITIONS[Action.DISMISS].sources == {FlagStatus.DETECTED, FlagStatus.IN_REVIEW, FlagStatus.MONITORING}
    assert TRANSITIONS[Action.REOPEN].target == FlagStatus.IN_REVIEW
