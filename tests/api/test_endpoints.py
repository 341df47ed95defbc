"""The other endpoints: who am I, the dashboard, indicators, rules, imports, projects, token and docs."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.permissions import Role
from escalations import services
from escalations.lifecycle import FlagStatus
from escalations.models import Flag
from indicators.models import ImportBatch, Indicator, ThresholdRule

from ..factories import FlagFactory, IndicatorFactory, MeasurementFactory
from .conftest import API

JSON = "application/json"

COMPTROLLER = (
    "ID,Agency.Number,Agency.Full.Name.y,Service,Goal,Indicator,Desired.Direction,Critical,Target.MMR,"
    "2016,2017,2018,2019,2020,2021,2022,2023\n"
    "114,810,Department of Buildings,Safe development,Review plans,Permitted jobs certified (%),Up,No,NA,"
    "61.92,64.13,61.15,58.13,62.22,57.96,56.11,50.34\n"
)


@pytest.mark.django_db
def test_me_names_agencies_and_portfolios_by_code(client_for, make_user, agency):
    user = make_user(Role.LIAISON, Role.DEPUTY_MAYOR, agencies=[agency], portfolios=[agency.portfolio])
    me = client_for(user).get(f"{API}me/").json()
    assert me["username"] == user.username
    assert me["roles"] == ["deputy_mayor", "liaison"]
    assert me["agencies"] == [agency.code]
    assert me["portfolios"] == [agency.portfolio.code]


@pytest.mark.django_db
def test_token_endpoint(client, liaison):
    wrong = client.post(f"{API}auth/token/", {"username": "liaison", "password": "wrong"}, content_type=JSON)
    assert wrong.status_code == 401 and wrong.json()["detail"] == "The username and password do not match."
    right = client.post(f"{API}auth/token/", {"username": "liaison", "password": "pw"}, content_type=JSON)
    token = right.json()["token"]
    assert client.get(f"{API}me/", HTTP_AUTHORIZATION=f"Token {token}").json()["username"] == "liaison"


@pytest.mark.django_db
def test_schema_and_docs_are_served_without_a_cdn(client):
    schema = client.get(f"{API}schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/flags/{id}/escalate/" in paths
    assert set(paths["/api/v1/flags/{id}/escalate/"]["post"]["responses"]) >= {"200", "400", "401", "403", "404", "409"}
    docs = client.get(f"{API}docs/").content.decode()
    assets = re.findall(r'(?:src|href)="([^"]+)"', docs)
    # Swagger UI's files from the installed sidecar package, and its start-up script from this server (served
    # as a file, not inline, so the page runs under the Content-Security-Policy).
    assert assets and all(
        url.startswith("/static/drf_spectacular_sidecar/") or url == f"{API}docs/?script=" for url in assets
    ), assets
    assert "<script>" not in docs


@pytest.mark.django_db
def test_dashboard_counts_rag_per_portfolio_and_agency(client_for, liaison, agency, other_agency):
    # The colours as the check wrote them; a case and its status do not enter into it.
    IndicatorFactory(agency=agency, rag="red")
    yellow = IndicatorFactory(agency=agency, rag="yellow")
    services.flag_dismiss(flag=FlagFactory(indicator=yellow), actor=liaison, reason_code="other", note="Known")
    IndicatorFactory(agency=agency, rag="green")
    IndicatorFactory(agency=other_agency, rag="green")
    IndicatorFactory(agency=other_agency)  # not checked yet
    board = client_for(liaison).get(f"{API}dashboard/").json()
    assert board["totals"] == {"red": 1, "yellow": 1, "green": 2, "not_checked": 1}
    mine = next(p for p in board["portfolios"] if p["code"] == agency.portfolio.code)
    assert (mine["red"], mine["yellow"], mine["green"]) == (1, 1, 1)
    assert mine["agencies"] == [
        {"code": agency.code, "name": agency.name, "red": 1, "yellow": 1, "green": 1, "not_checked": 0}
    ]


@pytest.mark.django_db
class TestIndicators:
    def test_latest_value_rag_and_filters(self, client_for, liaison, agency, other_agency):
        indicator = IndicatorFactory(agency=agency, critical=True, name="Missed collections", rag="red")
        MeasurementFactory(indicator=indicator, period=dt.date(2021, 7, 1), value=Decimal("5"))
        MeasurementFactory(indicator=indicator, period=dt.date(2022, 7, 1), value=Decimal("7"))
        case = services.flag_dismiss(
            flag=FlagFactory(indicator=indicator, severity="red"), actor=liaison, reason_code="other", note="Known"
        )
        IndicatorFactory(agency=other_agency)
        api = client_for(liaison)
        for params in ({"agency": agency.code}, {"critical": "true"}, {"rag": "red"}, {"q": "missed"}):
            rows = api.get(f"{API}indicators/", params).json()["results"]
            assert [row["id"] for row in rows] == [indicator.pk], params
        row = rows[0]
        assert (row["external_id"], row["rag"], row["latest_period"]) == (indicator.external_id, "red", "2022-07-01")
        assert (row["case"], row["case_status"], row["case_dismiss_reason"]) == (case.pk, "dismissed", "other")
        assert Decimal(row["latest_value"]) == 7
        export = api.get(f"{API}indicators/", {"rag": "red", "format": "csv"})
        assert b"".join(export.streaming_content).decode().splitlines()[1].startswith(f"{indicator.pk},")

    def test_tolerance_needs_a_rationale(self, client_for, liaison, agency):
        indicator = IndicatorFactory(agency=agency)
        api = client_for(liaison)
        response = api.patch(f"{API}indicators/{indicator.pk}/", {"tolerance": "2.5"}, format="json")
        assert response.status_code == 400
        assert set(response.json()["fields"]) == {"tolerance_rationale"}
        response = api.patch(
            f"{API}indicators/{indicator.pk}/",
            {"tolerance": "2.5", "tolerance_rationale": "Heat complaints matter more in winter"},
            format="json",
        )
        assert response.status_code == 200
        assert Indicator.objects.get(pk=indicator.pk).tolerance == Decimal("2.5")

    def test_history_is_scoped(self, client_for, make_user, other_agency, flag_in):
        flag = flag_in(FlagStatus.ESCALATED)
        stranger = make_user(Role.LIAISON, agencies=[other_agency])
        history = client_for(stranger).get(f"{API}indicators/{flag.indicator_id}/history/").json()
        assert history["flags"] == [] and history["timeline"] == [] and history["escalations"] == []


@pytest.mark.django_db
class TestRules:
    def test_ops_lead_adds_and_tunes_a_rule(self, client_for, lead, agency):
        api = client_for(lead)
        response = api.post(
            f"{API}rules/",
            {
                "name": "DSNY tighter",
                "kind": "trend_average",
                "yellow": "3",
                "red": "8",
                "params": {"n": 3},
                "scope": "agency",
                "agency": agency.code,
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        rule = ThresholdRule.objects.get(pk=response.json()["id"])
        assert (rule.agency, rule.params) == (agency, {"n": 3})
        assert api.patch(f"{API}rules/{rule.pk}/", {"active": False}, format="json").json()["active"] is False

    def test_every_seeded_rule_can_be_saved_as_it_is_and_switched_off(self, client_for, lead):
        api = client_for(lead)
        seeded = api.get(f"{API}rules/", {"page_size": 100}).json()["results"]
        assert len(seeded) == ThresholdRule.objects.count() == 10  # every seeded rule, the saw-tooth one included
        editable = ["name", "kind", "yellow", "red", "params", "critical_factor", "scope", "agency", "indicator"]
        editable += ["replaces_broader", "preliminary", "active"]
        for rule in seeded:
            own = {name: rule[name] for name in editable}
            response = api.patch(f"{API}rules/{rule['id']}/", own, format="json")
            assert response.status_code == 200, (rule["name"], response.content)
            assert {name: response.json()[name] for name in editable} == own
            off = api.patch(f"{API}rules/{rule['id']}/", {"active": False}, format="json")
            assert off.status_code == 200 and off.json()["active"] is False, rule["name"]
        assert not ThresholdRule.objects.filter(active=True).exists()

    def test_a_scoped_rule_can_replace_the_broader_ones_and_skip_preliminary_values(self, client_for, lead, agency):
        response = client_for(lead).post(
            f"{API}rules/",
            {
                "name": "DSNY's own year-over-year",
                "kind": "unusual_change",
                "yellow": "8",
                "red": "15",
                "params": {"years": 1, "sigma_yellow": 2.5},
                "scope": "agency",
                "agency": agency.code,
                "replaces_broader": True,
                "preliminary": "skip",
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        assert (response.json()["replaces_broader"], response.json()["preliminary"]) == (True, "skip")
        refused = client_for(lead).post(
            f"{API}rules/",
            {"name": "x", "kind": "target", "yellow": "1", "red": "2", "replaces_broader": True},
            format="json",
        )
        assert refused.status_code == 400 and "replaces_broader" in refused.json()["fields"]

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"scope": "agency"}, "agency"),
            ({"kind": "unusual_change", "params": {"sigma_red": 99}}, "params"),
            ({"kind": "unusual_change", "params": {"years": 1.5}}, "params"),
            ({"scope": "all", "indicator": None, "yellow": "9", "red": "1"}, "red"),
            ({"params": {"window": 5}}, "params"),
            ({"kind": "control_limit", "params": {"window": "many"}}, "params"),
            ({"yellow": "1e30"}, "yellow"),
        ],
    )
    def test_inconsistent_rules_are_400(self, client_for, lead, payload, field):
        base = {"name": "r", "kind": "year_over_year", "yellow": "5", "red": "10"}
        before = ThresholdRule.objects.count()
        response = client_for(lead).post(f"{API}rules/", {**base, **payload}, format="json")
        assert response.status_code == 400, response.content
        assert field in response.json()["fields"]
        assert ThresholdRule.objects.count() == before


@pytest.mark.django_db
class TestImports:
    def upload(self, api, content: str, **extra):
        file = SimpleUploadedFile("pmmr.csv", content.encode(), content_type="text/csv")
        return api.post(f"{API}imports/", {"file": file, **extra}, format="multipart")

    def test_import_then_reimport(self, client_for, lead):
        api = client_for(lead)
        first = self.upload(api, COMPTROLLER)
        assert first.status_code == 201, first.content
        assert first.json()["counts"]["measurements_created"] == 8
        assert first.json()["batch"]["imported_by"] == "lead"
        again = self.upload(api, COMPTROLLER)
        assert again.status_code == 200
        assert again.json()["duplicate_of"] == first.json()["batch"]["id"]
        assert api.get(f"{API}imports/").json()["count"] == 1

    def test_rejected_file_lists_row_errors_and_writes_nothing(self, client_for, lead):
        broken = COMPTROLLER.replace("61.92", "lots")
        response = self.upload(client_for(lead), broken)
        assert response.status_code == 400
        errors = response.json()["errors"]
        assert errors and errors[0]["line"] == 2
        assert ImportBatch.objects.count() == 0 and Indicator.objects.count() == 0

    def test_dry_run_counts_without_writing(self, client_for, lead):
        response = self.upload(client_for(lead), COMPTROLLER, dry_run="true")
        assert response.status_code == 200
        assert response.json()["batch"] is None and response.json()["counts"]["indicators_created"] == 1
        assert Indicator.objects.count() == 0


@pytest.mark.django_db
class TestProjects:
    def test_completing_a_project_resolves_its_flags(self, client_for, pm, lead, flag_in):
        flag = flag_in(FlagStatus.PROJECT)
        api = client_for(pm)
        project_id = flag.project_id
        proposed = api.patch(f"{API}projects/{project_id}/", {"status": "completed", "outcome": "x"}, format="json")
        assert proposed.status_code == 409
        assert proposed.json()["available_actions"] == ["active", "cancelled", "on_hold"]
        assert api.patch(f"{API}projects/{project_id}/", {"status": "active"}, format="json").status_code == 200
        refused = api.patch(f"{API}projects/{project_id}/", {"status": "completed"}, format="json")
        assert refused.status_code == 400
        assert set(refused.json()["fields"]) == {"outcome"}
        done = api.patch(f"{API}projects/{project_id}/", {"status": "completed", "outcome": "Fixed"}, format="json")
        assert done.status_code == 200
        assert Flag.objects.get(pk=flag.pk).status == FlagStatus.RESOLVED
        again = api.patch(f"{API}projects/{project_id}/", {"status": "active"}, format="json")
        assert again.status_code == 409
        assert again.json()["status"] == "completed"

    def test_create_with_agencies_and_milestones(self, client_for, pm, agency):
        api = client_for(pm)
        response = api.post(
            f"{API}projects/", {"title": "Fleet", "agencies": [agency.code], "owner": "pm"}, format="json"
        )
        assert response.status_code == 201, response.content
        project = response.json()
        assert (project["agencies"], project["owner"], project["status"]) == ([agency.code], "pm", "proposed")
        milestone = api.post(f"{API}projects/{project['id']}/milestones/", {"title": "Buy trucks"}, format="json")
        assert milestone.status_code == 201
        url = f"{API}projects/{project['id']}/milestones/{milestone.json()['id']}/"
        assert api.patch(url, {"done": True}, format="json").json()["done"] is True
        assert api.patch(url, {"done": False}, format="json").status_code == 409

    def test_unknown_owner_or_agency_is_400(self, client_for, pm):
        response = client_for(pm).post(
            f"{API}projects/", {"title": "X", "agencies": ["NOPE"], "owner": "ghost"}, format="json"
        )
        assert response.status_code == 400
        assert set(response.json()["fields"]) == {"agencies", "owner"}

    def test_manual_flag(self, client_for, liaison, agency):
        indicator = IndicatorFactory(agency=agency)
        response = client_for(liaison).post(
            f"{API}flags/", {"indicator": indicator.pk, "severity": "red", "summary": "Council hearing"}, format="json"
        )
        assert response.status_code == 201
        assert response.json()["origin"] == "manual" and response.json()["severity_pinned"] is True


@pytest.mark.django_db
def test_every_lifecycle_action_has_its_endpoint(client):
    from escalations.lifecycle import Action

    paths = client.get(f"{API}schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()["paths"]
    for action in Action:
        responses = paths[f"/api/v1/flags/{{id}}/{action.value}/"]["post"]["responses"]
        assert {"200", "400", "403", "404", "409"} <= set(responses), action
