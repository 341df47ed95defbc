"""The permission matrix: every endpoint × every role (and anonymous) × an object inside or outside the
user's scope, with the status the API must answer.

Scope: the liaison covers agency A, the deputy mayor's office serves A's portfolio; "in" objects belong
to A, "out" objects to agency B of another portfolio. Ops leads, project managers, auditors and admins see
every agency. For lists, the matrix also checks whether the object is listed."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from core.permissions import Role
from escalations import services
from escalations.lifecycle import TRANSITIONS, Action, FlagStatus
from escalations.models import Flag
from indicators.models import CheckRun, ImportBatch, ImportUpload

from ..escalations.conftest import PATHS
from ..factories import AgencyFactory, FlagFactory, IndicatorFactory, MeasurementFactory, RuleFactory
from .conftest import API

LIAISON, LEAD, DEPUTY, PM, AUDITOR, ADMIN = (
    Role.LIAISON,
    Role.OPS_LEAD,
    Role.DEPUTY_MAYOR,
    Role.PROJECT_MANAGER,
    Role.AUDITOR,
    Role.ADMIN,
)
ANON = "anonymous"
ROLES = [LIAISON, LEAD, DEPUTY, PM, AUDITOR, ADMIN, ANON]
SCOPES = ["in", "out"]
SCOPED = {LIAISON, DEPUTY}  # the roles that see only their agencies / portfolio


def sees(role: str, scope: str) -> bool:
    return scope == "in" or role not in SCOPED


class World:
    """Users of every role and, per scope, the objects an endpoint needs (made on demand, through the
    services)."""

    def __init__(self, make_user):
        self.agency = {"in": AgencyFactory(), "out": AgencyFactory()}
        a = self.agency["in"]
        self.users = {
            LIAISON: make_user(LIAISON, agencies=[a], username="m-liaison"),
            LEAD: make_user(LEAD, username="m-lead"),
            DEPUTY: make_user(DEPUTY, portfolios=[a.portfolio], username="m-deputy"),
            PM: make_user(PM, username="m-pm"),
            AUDITOR: make_user(AUDITOR, username="m-auditor"),
            ADMIN: make_user(ADMIN, username="m-admin"),
        }
        self.indicators = {}
        for scope, agency in self.agency.items():
            indicator = IndicatorFactory(agency=agency)
            MeasurementFactory(indicator=indicator)
            self.indicators[scope] = indicator

    def flag(self, scope: str, status: str = FlagStatus.DETECTED):
        """A flag of the scope's agency brought to ``status`` by a liaison of that agency and the lead."""
        agency = self.agency[scope]
        worker = self.users[LIAISON] if scope == "in" else self._outside_liaison()
        deputy = self.users[DEPUTY] if scope == "in" else self._outside_deputy()
        by_role: dict[str, Any] = {LIAISON: worker, LEAD: self.users[LEAD], DEPUTY: deputy}
        # A case per indicator and category: each flag gets an indicator of its own in the scope's agency.
        indicator = IndicatorFactory(agency=agency)
        MeasurementFactory(indicator=indicator)
        flag = FlagFactory.create(indicator=indicator)
        for action, role in PATHS[status]:
            service = services.ACTION_SERVICES[action]  # typed as returning object; a transition returns the flag
            flag = cast(Flag, service(flag=flag, actor=by_role[role], **SERVICE_INPUT[action]))
        assert flag.indicator.agency == agency and flag.status == status
        return flag

    def _outside_liaison(self):
        if not hasattr(self, "_liaison_b"):
            from indicators.services import role_grant

            self._liaison_b = type(self.users[LEAD]).objects.create_user("m-liaison-b")
            role_grant(username="m-liaison-b", role=LIAISON, agencies=[self.agency["out"].code])
        return self._liaison_b

    def _outside_deputy(self):
        if not hasattr(self, "_deputy_b"):
            from indicators.services import role_grant

            self._deputy_b = type(self.users[LEAD]).objects.create_user("m-deputy-b")
            role_grant(username="m-deputy-b", role=DEPUTY, portfolios=[self.agency["out"].portfolio.code])
        return self._deputy_b

    def project(self, scope: str):
        flag = self.flag(scope, FlagStatus.IN_REVIEW)
        flag = services.flag_convert(flag=flag, actor=self.users[LEAD], title=f"Project {scope}")
        return flag.project

    def milestone(self, scope: str):
        return services.milestone_add(project=self.project(scope), actor=self.users[PM], title="First step")


SERVICE_INPUT: dict[Action, dict[str, object]] = {
    Action.REVIEW: {},
    Action.MONITOR: {"until": timezone.localdate() + dt.timedelta(days=30), "reason": "Wait"},
    Action.ESCALATE: {"summary": "Slipping", "recommendation": "Project"},
    Action.DELEGATE: {"note": "We handle it"},
    Action.CONVERT: {"title": "A project"},
    Action.DISMISS: {"reason_code": "data_error", "note": "Typo"},
    Action.RESOLVE: {"resolution": "Fixed"},
}

# The action endpoints: the status the flag is put in, and the JSON sent.
ACTION_CASES: dict[Action, tuple[FlagStatus, dict]] = {
    Action.REVIEW: (FlagStatus.DETECTED, {}),
    Action.ASSIGN: (FlagStatus.IN_REVIEW, {"assignee": "m-lead"}),
    Action.SET_SEVERITY: (FlagStatus.DETECTED, {"severity": "red", "reason": "Public impact"}),
    Action.MONITOR: (FlagStatus.IN_REVIEW, {"until": "2999-01-01", "reason": "Wait a month"}),
    Action.RESUME: (FlagStatus.MONITORING, {}),
    Action.DISMISS: (FlagStatus.DETECTED, {"reason_code": "duplicate", "note": "Same as #1"}),
    Action.ESCALATE: (FlagStatus.IN_REVIEW, {"summary": "Slipping", "recommendation": "Project"}),
    Action.RETURN: (FlagStatus.ESCALATED, {"question": "Why?"}),
    Action.DELEGATE: (FlagStatus.ESCALATED, {"note": "We call the commissioner"}),
    Action.CONVERT: (FlagStatus.ESCALATED, {"title": "Fix it"}),
    Action.RESOLVE: (FlagStatus.IN_REVIEW, {"resolution": "Back on track"}),
    Action.REOPEN: (FlagStatus.DISMISSED, {"reason": "It came back"}),
    Action.NOTE: (FlagStatus.IN_REVIEW, {"body": "Agency says staffing", "kind": "agency_intel"}),
}


def action_expected(action: Action, status: FlagStatus):
    transition = TRANSITIONS[action]
    may_ever = set().union(*transition.allowed.values())

    def expected(role: str, scope: str) -> int:
        if role == ANON:
            return 401
        if role not in may_ever:
            return 403
        if not sees(role, scope):
            return 404
        return 200 if role in transition.allowed[status] else 403

    return expected


@dataclass
class Case:
    name: str
    method: str
    url: Callable  # (world, scope) -> (url, listed object id or None)
    expected: Callable  # (role, scope) -> status code
    body: Callable | None = None  # (world, scope) -> dict
    multipart: bool = False


def read_all(role, scope):
    return 401 if role == ANON else 200


def read_operations(role, scope):
    """The operations lists (rules, check runs, imports): the operations team, as on their pages."""
    return 401 if role == ANON else 200 if role in (LEAD, AUDITOR, ADMIN) else 403


def read_scoped(role, scope):
    return 401 if role == ANON else 200 if sees(role, scope) else 404


def allowed_to(*roles, code=200):
    def expected(role, scope):
        return 401 if role == ANON else code if role in roles else 403

    return expected


def briefing_expected(role, scope):
    """A portfolio's own deputy mayor's office reads its briefing; ops leads, auditors and admins read all."""
    if role == ANON:
        return 401
    return 200 if role in (LEAD, AUDITOR, ADMIN) or (role == DEPUTY and scope == "in") else 404


def flag_url(suffix="", status=FlagStatus.DETECTED):
    return lambda w, s: (f"{API}flags/{w.flag(s, status).pk}/{suffix}", None)


def listed(url, make_object):
    return lambda w, s: (url, make_object(w, s).pk)


def project_url(suffix=""):
    return lambda w, s: (f"{API}projects/{w.project(s).pk}/{suffix}", None)


def flag_event(w, s):
    flag = w.flag(s, FlagStatus.IN_REVIEW)
    return flag.events.get()


COMPTROLLER_HEADER = (
    "ID,Agency.Number,Agency.Full.Name.y,Service,Goal,Indicator,Desired.Direction,Critical,Target.MMR,"
    "2016,2017,2018,2019,2020,2021,2022,2023\n"
)


def import_body(w, s):
    line = f"9{s == 'in':d}1,810,{w.agency[s].name},S,G,Indicator {s},Up,No,NA,1,2,3,4,5,6,7,8\n"
    return {"file": SimpleUploadedFile("pmmr.csv", (COMPTROLLER_HEADER + line).encode(), "text/csv")}


def manual_flag_expected(role, scope):
    if role == ANON:
        return 401
    if role == LEAD or (role == LIAISON and scope == "in"):
        return 201
    return 403


def tune_expected(role, scope):
    if role == ANON:
        return 401
    if role in (LEAD, ADMIN) or (role == LIAISON and scope == "in"):
        return 200
    return 403


CASES = [
    Case("me", "get", lambda w, s: (f"{API}me/", None), read_all),
    Case("dashboard", "get", lambda w, s: (f"{API}dashboard/", None), read_all),
    Case("portfolios list", "get", lambda w, s: (f"{API}portfolios/", None), read_all),
    Case("portfolio", "get", lambda w, s: (f"{API}portfolios/{w.agency[s].portfolio.pk}/", None), read_all),
    Case(
        "portfolio create",
        "post",
        lambda w, s: (f"{API}portfolios/", None),
        allowed_to(ADMIN, code=201),
        body=lambda w, s: {"code": f"NEW{s}", "name": f"Deputy Mayor {s}"},
    ),
    Case(
        "portfolio change",
        "patch",
        lambda w, s: (f"{API}portfolios/{w.agency[s].portfolio.pk}/", None),
        allowed_to(ADMIN),
        body=lambda w, s: {"name": "Renamed"},
    ),
    Case("agencies list", "get", lambda w, s: (f"{API}agencies/", None), read_all),
    Case("agency", "get", lambda w, s: (f"{API}agencies/{w.agency[s].pk}/", None), read_all),
    Case(
        "agency create",
        "post",
        lambda w, s: (f"{API}agencies/", None),
        allowed_to(ADMIN, code=201),
        body=lambda w, s: {"code": f"NEW{s}", "name": f"New agency {s}", "portfolio": w.agency[s].portfolio.code},
    ),
    Case(
        "agency change",
        "patch",
        lambda w, s: (f"{API}agencies/{w.agency[s].pk}/", None),
        allowed_to(ADMIN),
        body=lambda w, s: {"budget_number": "827"},
    ),
    # Indicators (like dashboards) are read by everyone: no scope on the list.
    Case("indicators list", "get", lambda w, s: (f"{API}indicators/", None), read_all),
    Case("indicator", "get", lambda w, s: (f"{API}indicators/{w.indicators[s].pk}/", None), read_all),
    Case(
        "indicator tune",
        "patch",
        lambda w, s: (f"{API}indicators/{w.indicators[s].pk}/", None),
        tune_expected,
        body=lambda w, s: {"public_impact_weight": 4},
    ),
    Case("indicator history", "get", lambda w, s: (f"{API}indicators/{w.indicators[s].pk}/history/", None), read_all),
    Case(
        "indicator measurements",
        "get",
        lambda w, s: (f"{API}indicators/{w.indicators[s].pk}/measurements/", None),
        read_all,
    ),
    Case("rules list", "get", lambda w, s: (f"{API}rules/", None), read_operations),
    Case("rule", "get", lambda w, s: (f"{API}rules/{RuleFactory.create().pk}/", None), read_operations),
    Case(
        "rule create",
        "post",
        lambda w, s: (f"{API}rules/", None),
        allowed_to(LEAD, ADMIN, code=201),
        body=lambda w, s: {
            "name": "Agency slip",
            "kind": "year_over_year",
            "yellow": "3",
            "red": "6",
            "scope": "agency",
            "agency": w.agency[s].code,
        },
    ),
    Case(
        "rule change",
        "patch",
        lambda w, s: (f"{API}rules/{RuleFactory.create().pk}/", None),
        allowed_to(LEAD, ADMIN),
        body=lambda w, s: {"active": False},
    ),
    Case("check-runs list", "get", lambda w, s: (f"{API}check-runs/", None), read_operations),
    Case(
        "check-run",
        "get",
        lambda w, s: (f"{API}check-runs/{CheckRun.objects.create(as_of=timezone.localdate()).pk}/", None),
        read_operations,
    ),
    Case(
        "check-run start",
        "post",
        lambda w, s: (f"{API}check-runs/", None),
        allowed_to(LEAD, ADMIN, code=201),
        body=lambda w, s: {"full": True},
    ),
    Case("notifications list", "get", lambda w, s: (f"{API}notifications/", None), read_all),
    Case("notification preference", "get", lambda w, s: (f"{API}notifications/preference/", None), read_all),
    Case(
        "briefing",
        "get",
        lambda w, s: (f"{API}briefings/{w.agency[s].portfolio.code}/", None),
        briefing_expected,
    ),
    Case("imports list", "get", lambda w, s: (f"{API}imports/", None), read_operations),
    Case(
        "import",
        "get",
        lambda w, s: (
            f"{API}imports/{ImportBatch.objects.create(file_name='x.csv', sha256='0', format='x').pk}/",
            None,
        ),
        read_operations,
    ),
    Case("background imports list", "get", lambda w, s: (f"{API}import-uploads/", None), read_operations),
    Case(
        "background import",
        "get",
        lambda w, s: (
            f"{API}import-uploads/{ImportUpload.objects.create(file_name='x.csv', sha256='0', size=1).pk}/",
            None,
        ),
        read_operations,
    ),
    Case(
        "import create",
        "post",
        lambda w, s: (f"{API}imports/", None),
        allowed_to(LEAD, ADMIN, code=201),
        body=import_body,
        multipart=True,
    ),
    Case("flags list", "get", listed(f"{API}flags/", lambda w, s: w.flag(s)), read_all),
    Case("flags csv", "get", lambda w, s: (f"{API}flags/?format=csv", None), read_all),
    Case("flag", "get", flag_url(), read_scoped),
    Case(
        "flag create",
        "post",
        lambda w, s: (f"{API}flags/", None),
        manual_flag_expected,
        body=lambda w, s: {"indicator": w.indicators[s].pk, "severity": "red", "summary": "Looks bad"},
    ),
    Case("flag notes", "get", flag_url("notes/"), read_scoped),
    Case("flag events", "get", flag_url("events/"), read_scoped),
    Case(
        "flag note add",
        "post",
        flag_url("notes/", FlagStatus.IN_REVIEW),
        lambda role, scope: {200: 201}.get(c := action_expected(Action.NOTE, FlagStatus.IN_REVIEW)(role, scope), c),
        body=lambda w, s: {"body": "From the agency"},
    ),
    Case(
        "flags bulk",
        "post",
        lambda w, s: (f"{API}flags/bulk/", None),
        lambda role, scope: 401 if role == ANON else 200 if role in (LIAISON, LEAD) else 403,
        body=lambda w, s: {"action": "review", "ids": [w.flag(s).pk]},
    ),
    Case("projects list", "get", listed(f"{API}projects/", lambda w, s: w.project(s)), read_all),
    Case("project", "get", project_url(), read_scoped),
    Case(
        "project create",
        "post",
        lambda w, s: (f"{API}projects/", None),
        allowed_to(PM, LEAD, code=201),
        body=lambda w, s: {"title": "Interagency", "agencies": [w.agency[s].code], "owner": "m-pm"},
    ),
    Case("project change", "patch", project_url(), allowed_to(PM, LEAD), body=lambda w, s: {"status": "active"}),
    Case("project milestones", "get", project_url("milestones/"), read_scoped),
    Case(
        "milestone add",
        "post",
        project_url("milestones/"),
        allowed_to(PM, LEAD, code=201),
        body=lambda w, s: {"title": "Hire drivers", "due": "2030-01-01"},
    ),
    Case(
        "milestone done",
        "patch",
        lambda w, s: (f"{API}projects/{(m := w.milestone(s)).project_id}/milestones/{m.pk}/", None),
        allowed_to(PM, LEAD),
        body=lambda w, s: {"done": True},
    ),
    Case("events list", "get", listed(f"{API}events/", flag_event), read_all),
    Case("events csv", "get", lambda w, s: (f"{API}events/?format=csv", None), read_all),
    Case("event", "get", lambda w, s: (f"{API}events/{flag_event(w, s).pk}/", None), read_scoped),
]
for lifecycle_action, (status, payload) in ACTION_CASES.items():
    CASES.append(
        Case(
            f"flag {lifecycle_action.value}",
            "post",
            flag_url(f"{lifecycle_action.value}/", status),
            action_expected(lifecycle_action, status),
            body=lambda w, s, payload=payload: payload,
        )
    )

PARAMS = [
    pytest.param(case, role, scope, id=f"{case.name}-{role}-{scope}")
    for case in CASES
    for role in ROLES
    for scope in SCOPES
]


@pytest.fixture
def world(make_user):
    return World(make_user)


@pytest.mark.django_db
@pytest.mark.parametrize(("case", "role", "scope"), PARAMS)
def test_permission_matrix(case, role, scope, world, client_for):
    url, listed_id = case.url(world, scope)
    client = client_for(world.users.get(role))
    kwargs = {}
    if case.body is not None:
        kwargs = {"data": case.body(world, scope), "format": "multipart" if case.multipart else "json"}
    response = getattr(client, case.method)(url, **kwargs)
    expected = case.expected(role, scope)
    assert response.status_code == expected, getattr(response, "content", b"")[:500]
    if listed_id is not None and expected == 200:
        ids = {row["id"] for row in response.json()["results"]}
        assert (listed_id in ids) == sees(role, scope)
