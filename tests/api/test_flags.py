"""Flags over the API: lists and filters, CSV, constant query count, error mapping and bulk actions."""

import csv
import io

import pytest

from core.permissions import Role
from escalations import services
from escalations.lifecycle import FlagStatus
from escalations.models import Event, Flag

from ..factories import AgencyFactory, FlagFactory, IndicatorFactory, RuleFactory
from .conftest import API


def csv_rows(response) -> list[dict]:
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.fixture
def lead_api(lead, client_for):
    return client_for(lead)


@pytest.mark.django_db
class TestList:
    def test_filters_name_agencies_and_portfolios_by_code(self, lead_api, agency, other_agency):
        mine = FlagFactory(indicator__agency=agency, indicator__critical=True)
        FlagFactory(indicator__agency=other_agency)
        for params in ({"agency": agency.code}, {"portfolio": agency.portfolio.code}, {"critical": "true"}):
            rows = lead_api.get(f"{API}flags/", params).json()["results"]
            assert [row["id"] for row in rows] == [mine.pk], params
        row = rows[0]
        assert row["indicator"]["agency"] == agency.code
        assert row["portfolio"] == agency.portfolio.code
        assert row["indicator"]["external_id"] == mine.indicator.external_id
        signal = mine.signals.get()
        assert [s["rule"] for s in row["signals"]] == [
            {"id": signal.rule.pk, "name": signal.rule.name, "kind": signal.rule.kind}
        ]
        assert (row["signals"][0]["measure"], row["signals"][0]["unit"], row["signals"][0]["active"]) == (
            "10.000000",
            "percent",
            True,
        )
        assert row["signals"][0]["description"] == "FY2023 is 10.0 % worse than a year earlier"
        terms = {term["reason"]: term["points"] for term in row["priority_terms"]}
        assert row["priority"] == sum(terms.values()) == 15 + 20 + 5 + 3  # yellow, critical, weight 1, 2× threshold
        assert terms["critical indicator"] == 20

    def test_status_open_severity_assignee(self, lead_api, lead, liaison, agency):
        detected = FlagFactory(indicator__agency=agency, severity="red")
        reviewed = services.flag_review(flag=FlagFactory(indicator__agency=agency), actor=liaison)
        dismissed = services.flag_dismiss(
            flag=FlagFactory(indicator__agency=agency), actor=liaison, reason_code="duplicate", note="dup"
        )

        def ids(**params):
            return {row["id"] for row in lead_api.get(f"{API}flags/", params).json()["results"]}

        assert ids(open="true") == {detected.pk, reviewed.pk}
        assert ids(open="false") == {dismissed.pk}
        assert ids(status=["detected", "dismissed"]) == {detected.pk, dismissed.pk}
        assert ids(severity="red") == {detected.pk}
        assert ids(assignee="liaison") == {reviewed.pk}
        assert ids(assignee="me") == set()
        assert ids(indicator=reviewed.indicator_id) == {reviewed.pk}
        assert ids(rule=detected.signals.get().rule_id) == {detected.pk}

    def test_pagination_reports_count_and_next(self, lead_api, agency):
        FlagFactory.create_batch(5, indicator__agency=agency)
        page = lead_api.get(f"{API}flags/", {"page_size": 2}).json()
        assert page["count"] == 5
        assert len(page["results"]) == 2
        assert "page=2" in page["next"]

    def test_page_size_is_capped_at_1000(self, lead_api, agency):
        FlagFactory(indicator__agency=agency)
        page = lead_api.get(f"{API}flags/", {"page_size": 10**12}).json()
        assert page["count"] == 1

    @pytest.mark.parametrize(
        "params",
        [
            {"severity": "purple"},
            {"indicator": "abc"},
            {"indicator": 2**70},
            {"open": "maybe"},
            {"critical": ""},
            {"indicator": ""},
            {"page_size": "ten"},
            {"page": ["1", "2"]},
        ],
    )
    def test_bad_filter_values_are_400(self, lead_api, params):
        response = lead_api.get(f"{API}flags/", params)
        assert response.status_code == 400
        assert set(response.json()["fields"]) == set(params)

    def test_csv_export_applies_the_same_filters(self, lead_api, agency, other_agency):
        mine = FlagFactory(indicator__agency=agency)
        FlagFactory(indicator__agency=other_agency)
        response = lead_api.get(f"{API}flags/", {"agency": agency.code, "format": "csv"})
        assert response["Content-Type"].startswith("text/csv")
        rows = csv_rows(response)
        assert [int(row["id"]) for row in rows] == [mine.pk]
        assert rows[0]["indicator.agency"] == agency.code
        assert rows[0]["available_actions"] == '["review", "assign", "set_severity", "dismiss", "note"]'

    def test_csv_cells_are_not_formulas(self, client_for, liaison, agency):
        indicator = IndicatorFactory(agency=agency)
        flag = services.flag_raise(indicator=indicator, actor=liaison, severity="red", summary="=HYPERLINK(1)")
        rows = csv_rows(client_for(liaison).get(f"{API}flags/", {"format": "csv"}))
        assert [row["summary"] for row in rows if int(row["id"]) == flag.pk] == ["'=HYPERLINK(1)"]

    @pytest.mark.parametrize("page_size", [10, 500])
    def test_query_count_does_not_grow_with_the_page(
        self, page_size, client_for, make_user, django_assert_max_num_queries
    ):
        agencies = AgencyFactory.create_batch(3)
        user = make_user(Role.LIAISON, agencies=agencies)
        rules = RuleFactory.create_batch(3)
        for n in range(page_size):
            flag = FlagFactory(indicator__agency=agencies[n % 3], signal__rule=rules[n % 3])
            if n % 2:
                services.flag_review(flag=flag, actor=user)
        api = client_for(user)
        # token, count, page, signals, roles, agencies, portfolios: the same queries whatever the page size.
        with django_assert_max_num_queries(7):
            response = api.get(f"{API}flags/", {"open": "true", "page_size": page_size})
        assert len(response.json()["results"]) == page_size


@pytest.mark.django_db
class TestErrorMapping:
    def test_wrong_status_is_409_with_status_and_available_actions(self, client_for, liaison, flag_in):
        flag = flag_in(FlagStatus.DISMISSED)
        events = Event.objects.count()
        response = client_for(liaison).post(
            f"{API}flags/{flag.pk}/escalate/", {"summary": "s", "recommendation": "r"}, format="json"
        )
        assert response.status_code == 409
        body = response.json()
        assert body["status"] == "dismissed"
        assert body["available_actions"] == ["reopen", "note"]
        assert "detail" in body
        assert Event.objects.count() == events

    def test_role_is_403(self, client_for, deputy, flag_in):
        flag = flag_in(FlagStatus.IN_REVIEW)
        response = client_for(deputy).post(f"{API}flags/{flag.pk}/resolve/", {"resolution": "done"}, format="json")
        assert response.status_code == 403
        assert Flag.objects.get(pk=flag.pk).status == FlagStatus.IN_REVIEW

    def test_role_that_never_may_is_403_before_reading_input(self, client_for, auditor, flag_in):
        flag = flag_in(FlagStatus.IN_REVIEW)
        response = client_for(auditor).post(f"{API}flags/{flag.pk}/escalate/", {}, format="json")
        assert response.status_code == 403

    def test_out_of_scope_is_404(self, client_for, make_user, other_agency, flag_in):
        stranger = make_user(Role.LIAISON, agencies=[other_agency])
        flag = flag_in(FlagStatus.DETECTED)
        api = client_for(stranger)
        assert api.get(f"{API}flags/{flag.pk}/").status_code == 404
        assert api.post(f"{API}flags/{flag.pk}/review/", {}, format="json").status_code == 404

    @pytest.mark.parametrize(
        ("payload", "fields"),
        [
            ({}, {"summary", "recommendation"}),
            ({"summary": "s", "recommendation": "r", "urgency": "yesterday"}, {"urgency"}),
            ({"summary": ["a"], "recommendation": {"x": 1}}, {"summary", "recommendation"}),
            ({"summary": "   ", "recommendation": "r"}, {"summary"}),
        ],
    )
    def test_invalid_input_is_400_with_field_errors(self, client_for, liaison, flag_in, payload, fields):
        flag = flag_in(FlagStatus.IN_REVIEW)
        response = client_for(liaison).post(f"{API}flags/{flag.pk}/escalate/", payload, format="json")
        assert response.status_code == 400
        assert set(response.json()["fields"]) == fields

    def test_service_validation_is_400_too(self, client_for, liaison, flag_in):
        flag = flag_in(FlagStatus.IN_REVIEW)
        response = client_for(liaison).post(
            f"{API}flags/{flag.pk}/monitor/", {"until": "2000-01-01", "reason": "wait"}, format="json"
        )
        assert response.status_code == 400
        assert response.json()["fields"] == {"until": ["Must be a date in the future."]}

    @pytest.mark.parametrize(
        ("body", "content_type"),
        [
            (b"{not json", "application/json"),
            (b"[1, 2]", "application/json"),
            (b"\xff\xfe", "application/json"),
            (b"null", "application/json"),
        ],
    )
    def test_malformed_bodies_are_400(self, client_for, liaison, flag_in, body, content_type):
        flag = flag_in(FlagStatus.IN_REVIEW)
        response = client_for(liaison).generic("POST", f"{API}flags/{flag.pk}/escalate/", body, content_type)
        assert response.status_code == 400
        assert "detail" in response.json()

    @pytest.mark.parametrize("flag_id", ["99999999999999999999999", "-1", "1e3", "abc", "0x10"])
    def test_unknown_ids_are_json_404(self, lead_api, flag_id):
        response = lead_api.get(f"{API}flags/{flag_id}/")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}

    def test_unknown_action_is_json_404(self, lead_api, flag_in):
        flag = flag_in(FlagStatus.IN_REVIEW)
        response = lead_api.post(f"{API}flags/{flag.pk}/explode/", {}, format="json")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found."}

    def test_unauthenticated_is_401(self, client):
        response = client.get(f"{API}flags/")
        assert response.status_code == 401
        assert "detail" in response.json()

    def test_session_writes_need_csrf(self, liaison, flag_in):
        from django.test import Client

        flag = flag_in(FlagStatus.DETECTED)
        browser = Client(enforce_csrf_checks=True)
        browser.force_login(liaison)
        assert browser.get(f"{API}flags/{flag.pk}/").status_code == 200
        assert browser.post(f"{API}flags/{flag.pk}/review/", {}, content_type="application/json").status_code == 403
        assert Flag.objects.get(pk=flag.pk).status == FlagStatus.DETECTED


@pytest.mark.django_db
class TestBulk:
    def test_ids_report_each_outcome(self, client_for, liaison, agency, other_agency, flag_in):
        detected = flag_in(FlagStatus.DETECTED)
        escalated = flag_in(FlagStatus.ESCALATED)
        hidden = FlagFactory(indicator__agency=other_agency)
        payload = {
            "action": "dismiss",
            "ids": [detected.pk, escalated.pk, hidden.pk, detected.pk],
            "reason_code": "data_error",
            "note": "Bad extract",
        }
        result = client_for(liaison).post(f"{API}flags/bulk/", payload, format="json").json()
        assert result["matched"] == 3
        assert result["succeeded"] == 1
        assert result["succeeded_ids"] == [detected.pk]
        failures = {failure["id"]: failure["code"] for failure in result["failed"]}
        assert failures == {escalated.pk: 409, hidden.pk: 404}
        assert Flag.objects.get(pk=detected.pk).status == FlagStatus.DISMISSED
        assert Flag.objects.get(pk=hidden.pk).status == FlagStatus.DETECTED

    def test_filter_acts_on_exactly_what_the_list_shows(self, client_for, liaison, agency, other_agency):
        api = client_for(liaison)
        red = FlagFactory.create_batch(3, indicator__agency=agency, severity="red")
        FlagFactory(indicator__agency=agency, severity="yellow")
        FlagFactory(indicator__agency=other_agency, severity="red")  # outside the liaison's scope
        listed = {row["id"] for row in api.get(f"{API}flags/", {"severity": "red", "open": "true"}).json()["results"]}
        assert listed == {flag.pk for flag in red}
        result = api.post(
            f"{API}flags/bulk/", {"action": "review", "filter": {"severity": "red", "open": True}}, format="json"
        ).json()
        assert (result["matched"], result["succeeded"], result["failed"]) == (3, 3, [])
        assert set(result["succeeded_ids"]) == listed
        assert Event.objects.filter(verb="flag.reviewed").count() == 3

    def test_unknown_filter_keys_are_refused(self, client_for, liaison):
        events = Event.objects.count()
        response = client_for(liaison).post(
            f"{API}flags/bulk/", {"action": "review", "filter": {"severty": "red"}}, format="json"
        )
        assert response.status_code == 400
        assert Event.objects.count() == events

    def test_names_flags_by_ids_filter_both_or_none_and_needs_valid_action_input(self, client_for, liaison, flag_in):
        api = client_for(liaison)
        flag, other = flag_in(FlagStatus.DETECTED), flag_in(FlagStatus.IN_REVIEW)
        nothing = api.post(f"{API}flags/bulk/", {"action": "review"}, format="json").json()
        assert (nothing["matched"], nothing["succeeded"]) == (0, 0)
        both = {"action": "review", "ids": [flag.pk, other.pk], "filter": {"status": ["detected"]}}
        result = api.post(f"{API}flags/bulk/", both, format="json").json()
        assert result["succeeded_ids"] == [flag.pk] and [f["id"] for f in result["failed"]] == [other.pk]
        response = api.post(f"{API}flags/bulk/", {"action": "dismiss", "ids": [flag.pk]}, format="json")
        assert response.status_code == 400
        assert set(response.json()["fields"]) == {"reason_code", "note"}
        assert api.post(f"{API}flags/bulk/", {"action": "fly", "ids": [flag.pk]}, format="json").status_code == 400
        typo = {"action": "review", "filter": {"stauts": "detected"}}
        assert api.post(f"{API}flags/bulk/", typo, format="json").status_code == 400

    def test_convert_with_a_title_makes_one_project(self, client_for, lead, flag_in):
        flags = [flag_in(FlagStatus.IN_REVIEW) for _ in range(3)]
        result = (
            client_for(lead)
            .post(
                f"{API}flags/bulk/",
                {"action": "convert", "ids": [f.pk for f in flags], "title": "Fleet"},
                format="json",
            )
            .json()
        )
        assert result["succeeded"] == 3
        assert len({Flag.objects.get(pk=f.pk).project_id for f in flags}) == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"since": "9999-12-31T23:59:59-12:00"},
        {"until": "0001-01-01T00:00:00+14:00"},
        {"actor": "bad\x00name"},
        {"verb": "flag.exploded"},
        {"flag": "1.5"},
    ],
)
def test_event_filters_refuse_what_the_database_cannot_take(client_for, auditor, params):
    response = client_for(auditor).get(f"{API}events/", params)
    assert response.status_code == 400
    assert set(response.json()["fields"]) == set(params)


@pytest.mark.django_db
def test_agency_with_nul_in_portfolio_code_is_400(client_for, make_user):
    admin = make_user(Role.ADMIN)
    response = client_for(admin).post(
        f"{API}agencies/", {"code": "X", "name": "X", "portfolio": "P\x00"}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"portfolio"}
