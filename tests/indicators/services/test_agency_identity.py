"""One agency under all its names, one indicator across every source (issue 16): imports find an agency by budget
number, code, name or alias; a rename never moves an indicator; an unknown agency is created only with a warning
naming the near matches; an indicator without an ID in the file extends the existing one of its agency with the
same name, and an ambiguous name is an error listing the candidates."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.permissions import Role
from escalations.models import Event
from indicators.identity import normal_name
from indicators.models import Agency, AgencyAlias, Indicator, Measurement
from indicators.services import ImportRejected, agency_save, import_file

from ..conftest import FY16_SAMPLE, REAL_FILE, fingerprint

pytestmark = pytest.mark.django_db

ONLINE_VISITS = "311 Online site visits (000)"


def comptroller(*ids: str, change=None) -> bytes:
    """The shipped Comptroller file cut down to the rows of ``ids`` (all rows when none), each row passed
    through ``change(row)`` when given."""
    rows = list(csv.DictReader(io.StringIO(REAL_FILE.read_text(encoding="utf-8"), newline="")))
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        if not ids or row["ID"] in ids:
            writer.writerow(change(row) if change else row)
    return out.getvalue().encode()


def _import(content: bytes, name: str = "file.csv", **options):
    return import_file(file_name=name, content=content, **options)


def test_one_normal_form_for_every_spelling():
    assert normal_name("3-1-1") == normal_name("311") == "311"
    assert normal_name("Department of Parks & Recreation") == normal_name("department of parks and recreation")
    assert normal_name("Cases (%)") != normal_name("Cases")


def test_the_shipped_agencies_have_their_aliases():
    aliases = dict(AgencyAlias.objects.values_list("name", "agency__code"))
    assert aliases["3-1-1"] == "311" and aliases["NYC Parks"] == "DPR" and aliases["DoITT"] == "OTI"
    assert aliases["Sanitation Department"] == "DSNY"


# -- agencies ---------------------------------------------------------------------------------------------------
def test_renaming_an_agency_then_importing_again_moves_no_indicator(make_user):
    first = _import(comptroller("940", "1593", "8872"), "comptroller.csv")
    assert first.counts["indicators_created"] == 3
    dsny = Agency.objects.get(code="DSNY")
    agencies = Agency.objects.count()
    admin = make_user(Role.ADMIN)

    agency_save(actor=admin, agency=dsny, code="DOS", name="New York City Department of Sanitation")

    dsny.refresh_from_db()
    assert set(dsny.aliases.values_list("name", flat=True)) == {
        "Department of Sanitation", "DSNY", "NYC Sanitation", "Sanitation Department",
    }  # fmt: skip
    # The same rows (a different file: the values of 940 restated) — found by budget number and by old name.
    again = _import(comptroller("940", "1593", "8872", change=_restate_2016), "comptroller-again.csv")

    assert Agency.objects.count() == agencies  # no agency "DOS" or "Department of Sanitation" created
    assert Indicator.objects.get(external_id="940").agency == dsny
    assert Indicator.objects.get(external_id="1593").agency == dsny
    assert again.counts["indicators_created"] == 0 and again.counts["indicators_updated"] == 0
    assert again.counts["measurements_restated"] == 3
    assert not [w for w in again.warnings if "agency" in w.message]


def _restate_2016(row: dict) -> dict:
    return {**row, "2016": str(float(row["2016"]) + 1)}


def test_an_import_never_moves_an_existing_indicator_even_when_the_agency_is_not_found(make_user):
    _import(comptroller("940"), "comptroller.csv")
    dsny = Agency.objects.get(code="DSNY")
    # An administrator renames the agency, then removes its aliases (the old names a rename keeps among them) and
    # its budget number: nothing in the file finds it any more.
    admin = make_user(Role.ADMIN)
    agency_save(actor=admin, agency=dsny, code="DOS", name="Sanitation", budget_number="")
    agency_save(actor=admin, agency=dsny, aliases=[])
    agencies = Agency.objects.count()

    outcome = _import(comptroller("940", change=_restate_2016), "comptroller-again.csv")

    assert Indicator.objects.get(external_id="940").agency == dsny
    assert Agency.objects.count() == agencies
    (warning,) = [w for w in outcome.warnings if "restated" not in w.message]
    assert warning.line == 2
    assert warning.message == (
        'agency "Department of Sanitation" is not known; 940 and the other existing indicators of Sanitation (DOS) '
        "in this file stay with it (an import never moves an indicator to another agency)"
    )


def test_a_file_naming_another_known_agency_for_an_indicator_leaves_it_where_it_is():
    _import(comptroller("940"), "comptroller.csv")

    outcome = _import(
        comptroller("940", change=lambda row: {**row, "Agency.Number": "841", "Agency.Full.Name.y": "DOT"}), "moved.csv"
    )

    assert Indicator.objects.get(external_id="940").agency.code == "DSNY"
    (warning,) = outcome.warnings
    assert warning.message == (
        "the file names Department of Transportation (DOT); 940 and the other existing indicators of Department of "
        "Sanitation (DSNY) in this file stay with it (an import never moves an indicator to another agency)"
    )


def test_an_unknown_agency_is_created_with_a_warning_naming_the_near_matches():
    misspelt = {"Agency.Number": "NA", "Agency.Full.Name.y": "Dept of Sanitation"}
    outcome = _import(comptroller("940", change=lambda row: {**row, **misspelt}))

    created = Agency.objects.get(name="Dept of Sanitation")
    assert created.portfolio is None and Indicator.objects.get(external_id="940").agency == created
    (warning,) = outcome.warnings
    assert (warning.line, warning.column) == (2, None)
    assert warning.message == (
        'agency "Dept of Sanitation" was not known; created without a portfolio (near matches: Department of '
        'Sanitation (DSNY); Department of Transportation (DOT); if it is one of them, add "Dept of Sanitation" to '
        "its aliases)"
    )


def test_an_unknown_name_with_a_known_budget_number_is_that_agency():
    outcome = _import(comptroller("940", change=lambda row: {**row, "Agency.Full.Name.y": "Dept. of Sanitation"}))

    assert Indicator.objects.get(external_id="940").agency.code == "DSNY"
    assert outcome.warnings == []


def test_a_shared_budget_number_is_told_apart_by_the_name():
    # 858 is both 311's and the Office of Technology and Innovation's.
    _import(comptroller("8872", "10839"))

    assert set(Indicator.objects.values_list("agency__code", flat=True)) == {"311"}


def test_an_alias_added_through_the_api_finds_the_agency_and_writes_one_event(client, make_user):
    client.force_login(make_user(Role.ADMIN))
    dsny = Agency.objects.get(code="DSNY")
    before = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0

    response = client.patch(
        f"/api/v1/agencies/{dsny.pk}/",
        {"aliases": ["Sanitation Department", "NYC Sanitation", "Strassenreinigung"]},
        content_type="application/json",
    )

    assert response.status_code == 200, response.content
    assert response.json()["aliases"] == ["NYC Sanitation", "Sanitation Department", "Strassenreinigung"]
    (event,) = Event.objects.filter(id__gt=before)
    assert event.verb == "agency.updated"
    assert event.data["changes"] == {
        "aliases": {
            "old": ["NYC Sanitation", "Sanitation Department"],
            "new": ["NYC Sanitation", "Sanitation Department", "Strassenreinigung"],
        }
    }
    listed = client.get("/api/v1/agencies/").json()
    assert next(a for a in listed["results"] if a["code"] == "DSNY")["aliases"][-1] == "Strassenreinigung"

    outcome = _import(
        comptroller("940", change=lambda row: {**row, "Agency.Number": "", "Agency.Full.Name.y": "STRASSENREINIGUNG"})
    )
    assert outcome.warnings == [] and Indicator.objects.get(external_id="940").agency == dsny


def test_an_alias_another_agency_has_is_refused_and_writes_nothing(client, make_user):
    client.force_login(make_user(Role.ADMIN))
    dsny = Agency.objects.get(code="DSNY")
    before = (Event.objects.count(), AgencyAlias.objects.count())

    response = client.patch(
        f"/api/v1/agencies/{dsny.pk}/", {"aliases": ["NYC Parks", "  "]}, content_type="application/json"
    )
    assert response.status_code == 400 and "aliases" in response.json()["fields"]
    response = client.patch(f"/api/v1/agencies/{dsny.pk}/", {"aliases": ["nyc-parks"]}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["fields"]["aliases"] == ["“nyc-parks” already names Department of Parks and Recreation."]
    renamed = client.patch(f"/api/v1/agencies/{dsny.pk}/", {"name": "N.Y.P.D."}, content_type="application/json")
    assert renamed.status_code == 400 and "already names New York City Police Department" in str(renamed.json())

    assert (Event.objects.count(), AgencyAlias.objects.count()) == before


def test_a_liaison_cannot_change_aliases(client, make_user):
    client.force_login(make_user(Role.OPS_LEAD))
    dsny = Agency.objects.get(code="DSNY")
    response = client.patch(f"/api/v1/agencies/{dsny.pk}/", {"aliases": ["X"]}, content_type="application/json")
    assert response.status_code == 403 and not dsny.aliases.filter(name="X").exists()


def test_aliases_are_edited_on_the_agency_admin_page(admin_client):
    dsny = Agency.objects.get(code="DSNY")
    url = f"/admin/indicators/agency/{dsny.pk}/change/"
    page = admin_client.get(url)
    assert page.status_code == 200 and b"Sanitation Department" in page.content
    form = {"code": "DSNY", "name": dsny.name, "budget_number": "827", "portfolio": dsny.portfolio_id}

    refused = admin_client.post(url, {**form, "aliases": "Sanitation Department\n3-1-1"})
    assert refused.status_code == 200 and "“3-1-1” already names 311." in str(refused.context["adminform"].form.errors)
    saved = admin_client.post(url, {**form, "aliases": "Sanitation Department\n\nDSNY Sanitation\n"})

    assert saved.status_code == 302
    assert sorted(dsny.aliases.values_list("name", flat=True)) == ["DSNY Sanitation", "Sanitation Department"]
    (event,) = Event.objects.filter(verb="agency.updated")
    assert event.data["changes"]["aliases"]["new"] == ["DSNY Sanitation", "Sanitation Department"]


# -- indicators across sources ---------------------------------------------------------------------------------
def test_the_fy16_sample_after_the_comptroller_file_extends_the_311_indicators_that_exist():
    _import(REAL_FILE.read_bytes(), REAL_FILE.name)
    visits = Indicator.objects.get(name=ONLINE_VISITS)
    before = dict(visits.measurements.values_list("period__year", "value"))

    outcome = _import(FY16_SAMPLE.read_bytes(), FY16_SAMPLE.name)

    assert Indicator.objects.filter(name=ONLINE_VISITS).count() == 1
    assert Indicator.objects.filter(name="311 mobile app contacts (000)").count() == 1
    assert outcome.counts["indicators_extended"] == 2 and outcome.counts["indicators_created"] == 8
    assert "extended 2 existing indicators" in outcome.summary
    assert outcome.as_dict()["summary"] == outcome.summary
    visits.refresh_from_db()
    # What the indicator is stays as the file with its ID says.
    goal = "Increase public access to government services and information."
    assert (visits.external_id, visits.agency.code, visits.goal) == ("8872", "311", goal)
    after = dict(visits.measurements.values_list("period__year", "value"))
    assert set(after) == set(before) | {2011, 2012, 2013, 2014}  # FY12–FY15 added before the Comptroller's FY16
    assert after[2011] == 2117

    again = _import(FY16_SAMPLE.read_bytes().replace(b"\n", b"\r\n"), "again.csv")
    assert again.counts["indicators_extended"] == 2 and again.counts["measurements_created"] == 0


def test_the_comptroller_file_after_the_fy16_sample_gives_the_indicator_its_mmr_id():
    _import(FY16_SAMPLE.read_bytes(), FY16_SAMPLE.name)
    derived = Indicator.objects.get(name=ONLINE_VISITS)
    assert not derived.id_from_source and derived.external_id.startswith("MMR-311-")

    outcome = _import(comptroller("8872", "10839", "12374"))

    assert Indicator.objects.filter(name=ONLINE_VISITS).count() == 1
    visits = Indicator.objects.get(name=ONLINE_VISITS)
    assert (visits.pk, visits.external_id, visits.id_from_source) == (derived.pk, "8872", True)
    assert outcome.counts["indicators_extended"] == 2 and outcome.counts["indicators_created"] == 1
    years = set(visits.measurements.values_list("period__year", flat=True))
    assert years == {2011, 2012, 2013, 2014, 2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022}
    # And the sample again: found by name, now under its MMR ID.
    again = _import(FY16_SAMPLE.read_bytes().replace(b"\n", b"\r\n"), "again.csv")
    assert again.counts["indicators_extended"] == 2 and Indicator.objects.filter(name=ONLINE_VISITS).count() == 1


def test_an_ambiguous_name_is_an_error_listing_the_candidates():
    _import(comptroller("8872"))
    agency = Agency.objects.get(code="311")
    Indicator.objects.create(agency=agency, external_id="X-1", name="311 online site visits (000)")
    before = fingerprint()

    with pytest.raises(ImportRejected) as rejected:
        _import(FY16_SAMPLE.read_bytes(), FY16_SAMPLE.name)

    (error,) = rejected.value.errors
    assert error.line == 3
    assert error.message.startswith(
        '"311 Online site visits (000)" of 311 matches 2 existing indicators: 8872 "311 Online site visits (000)"; '
        'X-1 "311 online site visits (000)". Merge them into one'
    )
    assert fingerprint() == before


def test_a_value_of_another_frequency_is_not_the_same_series():
    _import(comptroller("8872"))
    Indicator.objects.filter(external_id="8872").update(frequency="monthly")

    outcome = _import(FY16_SAMPLE.read_bytes(), FY16_SAMPLE.name)

    assert outcome.counts["indicators_extended"] == 0
    assert Indicator.objects.filter(name=ONLINE_VISITS).count() == 2
    assert Measurement.objects.filter(indicator__external_id="8872").count() == 8


def test_an_administrator_moves_an_indicator_out_of_an_agency_an_import_created(make_user):
    from indicators.services import indicator_update

    misspelt = {"Agency.Number": "NA", "Agency.Full.Name.y": "Dept of Sanitation"}
    _import(comptroller("940", change=lambda row: {**row, **misspelt}))
    indicator = Indicator.objects.get(external_id="940")
    dsny = Agency.objects.get(code="DSNY")

    indicator_update(indicator=indicator, actor=make_user(Role.ADMIN), agency=dsny)

    assert Indicator.objects.get(external_id="940").agency == dsny
    (event,) = Event.objects.filter(verb="indicator.updated")
    assert event.data["changes"] == {"agency": {"old": indicator.agency.code, "new": "DSNY"}}
    # And the file again, spelt as before: the indicator stays where the administrator put it.
    _import(comptroller("940", change=lambda row: {**row, **misspelt, "2016": "1"}), "again.csv")
    assert Indicator.objects.get(external_id="940").agency == dsny


def test_the_api_answer_says_how_many_existing_indicators_a_file_extended(client, make_user):
    _import(comptroller("8872", "10839"))
    client.force_login(make_user(Role.OPS_LEAD))

    response = client.post("/api/v1/imports/", {"file": SimpleUploadedFile(FY16_SAMPLE.name, FY16_SAMPLE.read_bytes())})

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["counts"]["indicators_extended"] == 2 and body["batch"]["indicators_extended"] == 2
    assert body["summary"].startswith("created 8 indicators, extended 2 existing indicators, added ")


def test_the_import_page_says_how_many_existing_indicators_a_file_extended(client, make_user):
    _import(comptroller("8872", "10839"))
    client.force_login(make_user(Role.OPS_LEAD))

    page = client.post(
        reverse("import_upload"), {"file": SimpleUploadedFile(FY16_SAMPLE.name, FY16_SAMPLE.read_bytes())}
    )

    assert page.status_code == 200
    text = page.content.decode()
    assert "Created 8 indicators, extended 2 existing indicators, added " in text
    assert "Existing indicators extended: 2" in text


def test_an_indicator_without_an_agency_goes_to_the_agency_a_later_file_names():
    _import(comptroller("940", change=lambda row: {**row, "Agency.Number": "NA", "Agency.Full.Name.y": "NA"}))
    assert Indicator.objects.get(external_id="940").agency.code == "UNASSIGNED"

    outcome = _import(comptroller("940"), "named.csv")

    assert Indicator.objects.get(external_id="940").agency.code == "DSNY"
    assert outcome.counts["indicators_updated"] == 1 and outcome.warnings == []


def test_a_breakout_is_never_found_by_name():
    _import(comptroller("8872"))
    parent = Indicator.objects.get(external_id="8872")
    Indicator.objects.filter(pk=parent.pk).update(name="Old name")  # only the breakout has the sample's name
    Indicator.objects.create(
        agency=parent.agency, external_id="8872-b-bronx", name="311 Online site visits (000)", parent=parent
    )

    outcome = _import(FY16_SAMPLE.read_bytes(), FY16_SAMPLE.name)

    assert outcome.counts["indicators_extended"] == 0
    assert not Measurement.objects.filter(indicator__external_id="8872-b-bronx").exists()


def test_a_liaison_is_granted_an_agency_by_any_of_its_names():
    from indicators.services import role_grant

    from ...factories import UserFactory

    user = UserFactory()
    role_grant(username=user.username, role=Role.LIAISON, agencies=["NYC Parks", "3-1-1"])

    assert set(user.agencies.values_list("code", flat=True)) == {"DPR", "311"}
