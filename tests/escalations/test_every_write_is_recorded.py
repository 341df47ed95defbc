"""Every service that writes the database writes exactly one audit event: the public functions of
``indicators.services.*`` and ``escalations.services.*`` are walked, and each must either be called below
(``CASES``: these arguments → exactly one new event) or be listed with the reason it writes no single event
(``NOT_ONE_EVENT``). A new service with neither fails ``test_every_service_is_accounted_for``."""

import datetime as dt
import importlib
import inspect
import pkgutil
from collections.abc import Callable
from decimal import Decimal

import pytest

from core.permissions import Role
from escalations.lifecycle import TRANSITIONS, Action, ProjectAction
from escalations.models import Event
from indicators.models import CheckRunMode, RuleKind

from ..factories import IndicatorFactory, MeasurementFactory, RuleFactory, UserFactory
from ..indicators.conftest import FY16_SAMPLE
from .conftest import PATHS, perform

pytestmark = pytest.mark.django_db

PACKAGES = ("indicators.services", "escalations.services")

# Public functions that do not write exactly one event per call, and why.
NOT_ONE_EVENT: dict[str, str] = {
    # Reads and validation only.
    "indicators.services.configuration.tune_problems": "validation, reads only",
    "indicators.services.configuration.agency_name_problems": "validation, reads only",
    "indicators.services.configuration.agency_aliases": "reads only",
    "indicators.services.import_writer.import_summary": "an import's counts in words, reads nothing",
    "escalations.services.detection.flag_category": "a rule kind's queue, reads nothing",
    "escalations.services.detection.dated_watch": "which open cases a reporting-gap shard reports on, reads only",
    "escalations.services.inputs.clean_inputs": "validation, reads nothing",
    "escalations.services.notifications.recipients_of": "who hears of an event, reads only",
    "escalations.services.projects.project_is_open": "reads only",
    "escalations.services.projects.validate_owner": "validation, reads only",
    "escalations.services.sla.flags_overdue_untouched": "reads only",
    "escalations.services.checks.check_shards_sweep": "re-queues shard tasks, writes no row",
    "escalations.services.checks.check_as_of_allowed": "validation, reads only",
    "escalations.services.accounts.token_id": "names a token, reads nothing",
    "escalations.services.events.audit_checkpoint_build": "reads only",
    # Background imports: the import they run writes its event (tests/indicators/test_background_imports.py).
    "indicators.services.import_uploads.import_upload_queue": "stores a file to import; the import writes the "
    "import.completed event when it applies the file",
    "indicators.services.import_uploads.import_upload_run": "one import.completed event (through import_file) when "
    "the file applies, none when it fails",
    "indicators.services.import_uploads.import_uploads_sweep": "re-queues background imports; their runs write "
    "the events",
    "indicators.services.import_uploads.import_upload_kick": "asks a worker for an upload, writes no row",
    # The audit trail itself.
    "escalations.services.events.event_record": "appends the event that every other service's change is",
    "escalations.services.events.event_record_many": "appends the events of a check shard, one per case changed",
    "escalations.services.events.change_record": "the receiver of core.audit.changed: appends the sender's event",
    "escalations.services.events.audit_checkpoint_record": "a record about the chain, not a change in it: an "
    "event would move the head it records (tests/escalations/test_audit.py)",
    "escalations.services.events.audit_chain_check": "one audit.chain_broken alert when the chain is broken, "
    "nothing while it holds (tests/escalations/test_audit.py)",
    # Helpers called inside another service's transaction.
    "escalations.services.bulk_insert.insert_select": "SQL builder for the services' bulk inserts",
    "escalations.services.bulk_insert.execute": "runs a statement for the services' bulk inserts",
    "indicators.services.status.indicator_rag_record": "an indicator's colour, written by a check shard "
    "inside check_shard_execute's transaction",
    "indicators.services.series.indicator_series_refresh": "what an indicator's values are, recomputed inside the "
    "transaction of the import or merge that wrote them (and recorded it)",
    # The check engine: one event per case that changed (none on unchanged data); the run started by hand is
    # recorded by check_run_start, the nightly one by the run ledger.
    "escalations.services.detection.flags_apply_evaluation": "one event per case changed, none on unchanged data "
    "(tests/escalations/services/test_detection.py)",
    "escalations.services.checks.check_shard_execute": "one event per case changed, through flags_apply_evaluation",
    # Many flags at once, each through its own service and so its own event.
    "escalations.services.bulk_actions.flags_bulk_act": "one event per flag, each through the action's service",
    "escalations.services.sla.flags_mark_overdue": "one flag.overdue event per flag marked "
    "(tests/escalations/test_sla.py)",
    "escalations.services.sla.flags_resume_due_monitoring": "one flag.resumed event per flag, through flag_resume",
    # Side effects of an event already recorded, through the outbox: each notification names its event.
    "escalations.services.notifications.notify_later": "the outbox row of a recorded event's notifications",
    "escalations.services.notifications.notify_later_many": "the outbox rows of recorded events' notifications",
    "escalations.services.notifications.notify_owner_later": "the outbox row of a recorded event's owner notice",
    "escalations.services.notifications.notifications_create": "the notifications of a recorded event",
    "escalations.services.notifications.notifications_create_many": "the notifications of recorded events",
    "escalations.services.notifications.emails_owed": "the outbox rows of the e-mails recorded notifications owe",
    "escalations.services.notifications.notification_email_send": "sends the e-mail of a recorded notification",
    "escalations.services.notifications.digests_send": "the outbox rows of the day's digests",
    "escalations.services.notifications.digest_send": "sends one digest of recorded notifications",
    "escalations.services.notifications.email_subject": "builds a subject line, reads nothing",
    "escalations.services.outbox.outbox_put": "a side effect of a change, written in that change's transaction",
    "escalations.services.outbox.outbox_put_many": "side effects of a change, written in that change's transaction",
    "escalations.services.outbox.outbox_dispatch": "delivers side effects of recorded changes",
    "escalations.services.outbox.outbox_kick": "asks the broker to dispatch now, writes nothing",
    "escalations.services.outbox.outbox_counts": "reads only",
    "escalations.services.outbox.retry_delay": "arithmetic, reads nothing",
    "escalations.services.sla.flags_escalate_overdue_to_leads": "notifies the ops leads of a recorded flag.overdue",
    # A person's own inbox, not a change to what Percolate measures or decides.
    "escalations.services.notifications.notifications_mark_read": "a person's own read marks",
    "escalations.services.notifications.notification_preference_set": "a person's own e-mail preference",
    "escalations.services.saved_views.saved_view_save": "a person's own saved view",
    "escalations.services.saved_views.saved_view_delete": "a person's own saved view",
    "escalations.services.saved_views.saved_view_query": "the part of a query string a view keeps, reads nothing",
}


class World:
    """What the cases act on: a user of each role, an agency, and flags reached through the services."""

    def __init__(self, ctx: dict, flag_in: Callable, make_user: Callable, agency) -> None:
        self.ctx, self.flag_in, self.agency = ctx, flag_in, agency
        self.liaison, self.lead, self.pm = ctx[Role.LIAISON], ctx[Role.OPS_LEAD], ctx[Role.PROJECT_MANAGER]
        self.admin = make_user(Role.ADMIN, username="admin")

    def project(self):
        from escalations.services import project_create

        return project_create(actor=self.pm, title="Fix the backlog")


# name → case(world) → the call to count (its setup is done before counting).
Case = Callable[[World], Callable[[], object]]
CASES: dict[str, Case] = {}


def case(name: str) -> Callable[[Case], Case]:
    def register(function: Case) -> Case:
        CASES[name] = function
        return function

    return register


def _service(name: str) -> Callable[..., object]:
    module, function = name.rsplit(".", 1)
    return getattr(importlib.import_module(module), function)


@case("indicators.services.configuration.portfolio_save")
def _portfolio_save(w: World):
    return lambda: _service("indicators.services.configuration.portfolio_save")(
        actor=w.admin, code="PX", name="Deputy Mayor X"
    )


@case("indicators.services.configuration.agency_save")
def _agency_save(w: World):
    return lambda: _service("indicators.services.configuration.agency_save")(actor=w.admin, code="AX", name="X")


@case("indicators.services.configuration.rule_save")
def _rule_save(w: World):
    return lambda: _service("indicators.services.configuration.rule_save")(
        actor=w.lead, name="Drop", kind=RuleKind.YEAR_OVER_YEAR, yellow=Decimal(5), red=Decimal(10)
    )


@case("indicators.services.configuration.rule_delete")
def _rule_delete(w: World):
    rule = RuleFactory()
    return lambda: _service("indicators.services.configuration.rule_delete")(actor=w.lead, rule=rule)


@case("indicators.services.configuration.indicator_tune")
def _indicator_tune(w: World):
    indicator = IndicatorFactory(agency=w.agency)
    return lambda: _service("indicators.services.configuration.indicator_tune")(
        indicator=indicator, actor=w.liaison, tolerance=Decimal(100), tolerance_rationale="Seasonal"
    )


@case("indicators.services.configuration.indicator_update")
def _indicator_update(w: World):
    indicator = IndicatorFactory()
    return lambda: _service("indicators.services.configuration.indicator_update")(
        indicator=indicator, actor=w.admin, critical=True
    )


@case("indicators.services.imports.import_file")
def _import_file(w: World):
    return lambda: _service("indicators.services.imports.import_file")(
        file_name=FY16_SAMPLE.name, content=FY16_SAMPLE.read_bytes(), user=w.lead
    )


@case("indicators.services.roles.role_grant")
def _role_grant(w: World):
    user = UserFactory()
    return lambda: _service("indicators.services.roles.role_grant")(username=user.username, role=Role.AUDITOR)


@case("indicators.services.roles.role_revoke")
def _role_revoke(w: World):
    user = UserFactory()
    _service("indicators.services.roles.role_grant")(username=user.username, role=Role.AUDITOR)
    return lambda: _service("indicators.services.roles.role_revoke")(username=user.username, role=Role.AUDITOR)


@case("escalations.services.indicators.indicator_merge")
def _indicator_merge(w: World):
    survivor, merged = IndicatorFactory(agency=w.agency), IndicatorFactory(agency=w.agency)
    MeasurementFactory(indicator=survivor, value=Decimal(1))
    MeasurementFactory(indicator=merged, value=Decimal(2))
    return lambda: _service("escalations.services.indicators.indicator_merge")(
        actor=w.lead, survivor=survivor, merged=merged
    )


@case("escalations.services.checks.check_run_start")
def _check_run_start(w: World):
    return lambda: _service("escalations.services.checks.check_run_start")(
        mode=CheckRunMode.FULL, as_of=dt.date(2024, 1, 15), requested_by=w.lead, dispatch=False
    )


@case("escalations.services.events.signin_lockout_record")
def _signin_lockout_record(w: World):
    return lambda: _service("escalations.services.events.signin_lockout_record")(
        username="maria", ip_address="127.0.0.1"
    )


@case("escalations.services.sla.sla_policy_update")
def _sla_policy_update(w: World):
    return lambda: _service("escalations.services.sla.sla_policy_update")(actor=w.lead, review_days_red=3)


@case("escalations.services.accounts.token_create")
def _token_create(w: World):
    return lambda: _service("escalations.services.accounts.token_create")(user=w.liaison)


@case("escalations.services.accounts.token_revoke")
def _token_revoke(w: World):
    from escalations.services.accounts import token_create

    token, _ = token_create(user=w.liaison)
    return lambda: _service("escalations.services.accounts.token_revoke")(token=token, actor=w.liaison)


@case("escalations.services.accounts.tokens_revoke_all")
def _tokens_revoke_all(w: World):
    _service("escalations.services.accounts.token_create")(user=w.liaison)
    return lambda: _service("escalations.services.accounts.tokens_revoke_all")(user=w.liaison, actor=w.liaison)


@case("escalations.services.accounts.password_change")
def _password_change(w: World):
    return lambda: _service("escalations.services.accounts.password_change")(
        user=w.liaison, password="a much better passphrase", actor=w.liaison
    )


@case("escalations.services.sla.closure_save")
def _closure_save(w: World):
    return lambda: _service("escalations.services.sla.closure_save")(
        actor=w.lead, date=dt.date(2026, 12, 24), name="Snow day"
    )


@case("escalations.services.sla.closure_delete")
def _closure_delete(w: World):
    from escalations.services import closure_save

    closure = closure_save(actor=w.lead, date=dt.date(2026, 12, 24), name="Snow day")
    return lambda: _service("escalations.services.sla.closure_delete")(actor=w.lead, closure=closure)


@case("escalations.services.flags.flag_raise")
def _flag_raise(w: World):
    indicator = IndicatorFactory(agency=w.agency)
    return lambda: _service("escalations.services.flags.flag_raise")(
        indicator=indicator, actor=w.liaison, severity="red", summary="Worse every month"
    )


@case("escalations.services.projects.project_create")
def _project_create(w: World):
    return lambda: _service("escalations.services.projects.project_create")(actor=w.pm, title="Fix the backlog")


@case("escalations.services.projects.project_update")
def _project_update(w: World):
    project = w.project()
    return lambda: _service("escalations.services.projects.project_update")(
        project=project, actor=w.pm, title="Fix the backlog for good"
    )


@case("escalations.services.projects.project_act")
def _project_act(w: World):
    project = w.project()
    return lambda: _service("escalations.services.projects.project_act")(
        project=project, actor=w.pm, action=ProjectAction.START
    )


@case("escalations.services.projects.milestone_add")
def _milestone_add(w: World):
    project = w.project()
    return lambda: _service("escalations.services.projects.milestone_add")(project=project, actor=w.pm, title="Hire")


@case("escalations.services.projects.milestone_complete")
def _milestone_complete(w: World):
    milestone = _service("escalations.services.projects.milestone_add")(project=w.project(), actor=w.pm, title="Hire")
    return lambda: _service("escalations.services.projects.milestone_complete")(milestone=milestone, actor=w.pm)


@case("escalations.services.projects.milestone_update")
def _milestone_update(w: World):
    milestone = _service("escalations.services.projects.milestone_add")(project=w.project(), actor=w.pm, title="Hire")
    return lambda: _service("escalations.services.projects.milestone_update")(
        milestone=milestone, actor=w.pm, title="Hire two", owner=w.pm
    )


def _flag_action(action: Action) -> Case:
    """A case for one flag action: a flag brought to a status the action is allowed from, by a role allowed."""

    def case(w: World):
        status, roles = next((s, roles) for s, roles in TRANSITIONS[action].allowed.items() if s in PATHS)
        flag = w.flag_in(status)
        actor = w.ctx[sorted(roles)[0]]
        return lambda: perform(action, flag, actor, w.ctx)

    return case


# Each flag action's service (``ACTION_SERVICES``), called as the flag page and the API call it.
_ACTION_FUNCTIONS = {
    Action.REVIEW: "flag_review",
    Action.ASSIGN: "flag_assign",
    Action.SET_SEVERITY: "flag_set_severity",
    Action.MONITOR: "flag_monitor",
    Action.RESUME: "flag_resume",
    Action.DISMISS: "flag_dismiss",
    Action.ESCALATE: "flag_escalate",
    Action.RETURN: "flag_return",
    Action.DELEGATE: "flag_delegate",
    Action.CONVERT: "flag_convert",
    Action.RESOLVE: "flag_resolve",
    Action.REOPEN: "flag_reopen",
    Action.NOTE: "flag_add_note",
}
CASES.update({f"escalations.services.flags.{name}": _flag_action(action) for action, name in _ACTION_FUNCTIONS.items()})


def _services() -> set[str]:
    """Every public function defined in a module of the service packages."""
    found = set()
    for package in PACKAGES:
        for module_info in pkgutil.iter_modules(importlib.import_module(package).__path__):
            module = importlib.import_module(f"{package}.{module_info.name}")
            for name, value in vars(module).items():
                if inspect.isfunction(value) and value.__module__ == module.__name__ and not name.startswith("_"):
                    found.add(f"{module.__name__}.{name}")
    return found


def test_every_service_is_accounted_for():
    services = _services()
    missing = services - set(CASES) - set(NOT_ONE_EVENT)
    assert not missing, f"services with no one-event case and no reason: {sorted(missing)}"
    stale = (set(CASES) | set(NOT_ONE_EVENT)) - services
    assert not stale, f"listed but no longer a service: {sorted(stale)}"
    assert not set(CASES) & set(NOT_ONE_EVENT)


def test_the_flag_actions_are_the_action_services():
    from escalations.services import ACTION_SERVICES

    assert {action: service.__name__ for action, service in ACTION_SERVICES.items()} == _ACTION_FUNCTIONS


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_service_writes_exactly_one_event(name, ctx, flag_in, make_user, agency):
    call = CASES[name](World(ctx, flag_in, make_user, agency))
    before = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    call()
    new = list(Event.objects.filter(id__gt=before).values_list("verb", flat=True))
    assert len(new) == 1, f"{name} wrote {new}"
