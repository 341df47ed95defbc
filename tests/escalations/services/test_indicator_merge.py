"""Merging two series that turn out to be one indicator (``indicator_merge``, issue 16): every value and revision
kept, the conflicting period's survivor value current and the other a revision, cases, rules, breakouts and the
tolerance moved, one event; a refused merge writes nothing. Through the service, the API, the page and the
command."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from core.errors import ActionForbidden, Conflict, InvalidInput
from core.permissions import Role
from escalations.lifecycle import FlagStatus
from escalations.models import Event, Flag, FlagCategory
from escalations.services import indicator_merge
from indicators.models import Indicator, Measurement, MeasurementRevision, ThresholdRule
from indicators.services import import_file

from ...factories import AgencyFactory, FlagFactory, IndicatorFactory, MeasurementFactory, RuleFactory
from ...indicators.conftest import FY16_SAMPLE

pytestmark = pytest.mark.django_db

FY21, FY22, FY23, FY24 = (dt.date(year, 7, 1) for year in (2020, 2021, 2022, 2023))


def _value(indicator, period, value, *, was=None):
    """A measurement, with a revision from ``was`` when given (a restatement)."""
    measurement = MeasurementFactory(indicator=indicator, period=period, value=Decimal(value))
    if was is not None:
        MeasurementRevision.objects.create(
            measurement=measurement, old_value=Decimal(was), new_value=Decimal(value), old_preliminary=False
        )
    return measurement


@pytest.fixture
def pair(agency):
    """Two series of one indicator: FY21 only in the survivor, FY22 in both (different values), FY23 only in
    the other; each with restatements; the other with a tolerance, a rule, a breakout and two cases."""
    survivor = IndicatorFactory(agency=agency, external_id="8872", name="311 Online site visits (000)")
    merged = IndicatorFactory(
        agency=agency,
        external_id="MMR-311-311-online-site-visits-000",
        name="311 Online site visits (000)",
        id_from_source=False,
        tolerance=Decimal(15),
        tolerance_rationale="Seasonal",
    )
    _value(survivor, FY21, "10", was="9")
    _value(survivor, FY22, "20")
    _value(merged, FY22, "21", was="22")
    _value(merged, FY23, "30", was="31")
    return survivor, merged


def _state() -> tuple:
    return (
        Event.objects.count(),
        tuple(Measurement.objects.order_by("id").values_list("id", "indicator_id", "period", "value")),
        tuple(MeasurementRevision.objects.order_by("id").values_list("measurement_id", "old_value", "new_value")),
        tuple(Indicator.objects.order_by("id").values_list("id", "merged_into", "active", "parent", "tolerance")),
        tuple(Flag.objects.order_by("id").values_list("id", "indicator_id")),
    )


def test_a_merge_keeps_every_value_and_revision_and_writes_one_event(pair, lead):
    survivor, merged = pair
    rule = RuleFactory(scope="indicator", indicator=merged)
    breakout = IndicatorFactory(agency=survivor.agency, parent=merged)
    closed = FlagFactory(indicator=merged, status=FlagStatus.RESOLVED)
    data_case = FlagFactory(indicator=merged, category=FlagCategory.DATA_QUALITY)
    performance_case = FlagFactory(indicator=survivor)
    before = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0

    kept = indicator_merge(actor=lead, survivor=survivor, merged=merged)

    assert kept == survivor
    values = dict(Measurement.objects.filter(indicator=survivor).values_list("period", "value"))
    assert values == {FY21: 10, FY22: 20, FY23: 30}  # FY22: the survivor's value stays current
    assert not Measurement.objects.filter(indicator=merged).exists()
    revisions = {
        (r.measurement.period, r.old_value, r.new_value, r.changed_by)
        for r in MeasurementRevision.objects.select_related("measurement")
    }
    assert revisions == {
        (FY21, 9, 10, None),  # the survivor's own
        (FY22, 22, 21, None),  # the other's restatement of FY22, kept with the period
        (FY22, 21, 20, lead),  # the other's FY22 value, kept as a revision of the survivor's
        (FY23, 31, 30, None),  # moved with its value
    }
    assert all(r.measurement.indicator_id == survivor.pk for r in MeasurementRevision.objects.all())
    merged.refresh_from_db()
    survivor.refresh_from_db()
    assert (merged.merged_into, merged.active) == (survivor, False)
    assert (survivor.tolerance, survivor.tolerance_rationale) == (Decimal(15), "Seasonal")
    assert survivor.data_changed_at is not None and survivor.reported_through == FY23
    assert (survivor.reported_from, survivor.unbroken_since) == (FY21, FY21)  # FY21, FY22, FY23: no gap
    assert (merged.reported_from, merged.reported_through, merged.unbroken_since) == (None, None, None)
    assert set(Flag.objects.values_list("id", "indicator_id")) == {
        (closed.pk, survivor.pk), (data_case.pk, survivor.pk), (performance_case.pk, survivor.pk),
    }  # fmt: skip
    assert ThresholdRule.objects.get(pk=rule.pk).indicator == survivor
    assert Indicator.objects.get(pk=breakout.pk).parent == survivor
    (event,) = Event.objects.filter(id__gt=before)
    assert (event.verb, event.indicator, event.actor) == ("indicator.merged", survivor, lead)
    assert event.data["merged"] == {"id": merged.pk, "external_id": merged.external_id, "name": merged.name}
    assert (event.data["values_moved"], event.data["periods_in_both"], event.data["values_kept_as_revisions"]) == (
        1, 1, 1,
    )  # fmt: skip
    assert event.data["conflicts"] == [{"period": "2021-07-01", "kept": "20", "other": "21"}]
    assert sorted(event.data["cases_moved"]) == sorted([closed.pk, data_case.pk])
    assert event.data["rules_moved"] == [rule.pk] and event.data["tolerance_taken"] == "15"


def test_the_survivor_keeps_its_own_tolerance(pair, lead):
    survivor, merged = pair
    Indicator.objects.filter(pk=survivor.pk).update(tolerance=Decimal(5), tolerance_rationale="Volatile")

    indicator_merge(actor=lead, survivor=survivor, merged=merged)

    survivor.refresh_from_db()
    assert (survivor.tolerance, survivor.tolerance_rationale) == (Decimal(5), "Volatile")
    assert Event.objects.get(verb="indicator.merged").data["tolerance_taken"] is None


def test_an_import_naming_the_merged_indicator_writes_to_the_survivor(pair, lead):
    survivor, merged = pair
    indicator_merge(actor=lead, survivor=survivor, merged=merged)

    outcome = import_file(
        file_name="later.csv", content=f"indicator,period,value\n{merged.external_id},FY2024,40\n".encode()
    )

    assert outcome.counts["indicators_extended"] == 1
    assert Measurement.objects.get(indicator=survivor, period=FY24).value == 40
    assert not Measurement.objects.filter(indicator=merged).exists()


def test_two_series_made_before_the_fix_are_one_after_a_merge_and_the_sample_extends_it(lead, make_user):
    """Before issue 16 the FY16 sample created a second "311 Online site visits (000)" next to the Comptroller's:
    merged, the sample's next import extends the survivor."""
    import_file(file_name=FY16_SAMPLE.name, content=FY16_SAMPLE.read_bytes())
    derived = Indicator.objects.get(name="311 Online site visits (000)")
    survivor = IndicatorFactory(agency=derived.agency, external_id="8872", name="311 Online site visits (000) ")
    _value(survivor, FY22, "13472.42")

    indicator_merge(actor=lead, survivor=survivor, merged=derived)
    again = import_file(file_name="again.csv", content=FY16_SAMPLE.read_bytes().replace(b"\n", b"\r\n"))

    assert again.counts["indicators_extended"] == 1 and again.counts["indicators_created"] == 0
    assert Measurement.objects.filter(indicator=survivor).count() == 6  # FY12–FY16 and FY22


@pytest.mark.parametrize(
    ("case", "error", "message"),
    [
        ("liaison", ActionForbidden, "Only ops leads merge indicators."),
        ("admin", ActionForbidden, "Only ops leads merge indicators."),
        ("itself", InvalidInput, "An indicator cannot be merged into itself."),
        ("other agency", InvalidInput, "only one agency's indicators are merged"),
        ("other frequency", InvalidInput, "they are not one series"),
        ("breakout", InvalidInput, "One is a breakout of the other"),
        ("already merged", Conflict, "was merged into another indicator already"),
        ("two open cases", Conflict, "Both indicators have an open case of the same queue"),
    ],
)
def test_a_refused_merge_writes_nothing(pair, lead, liaison, make_user, case, error, message):
    survivor, merged = pair
    actor = {"liaison": liaison, "admin": make_user(Role.ADMIN)}.get(case, lead)
    if case == "itself":
        merged = survivor
    elif case == "other agency":
        Indicator.objects.filter(pk=merged.pk).update(agency=AgencyFactory())
    elif case == "other frequency":
        Indicator.objects.filter(pk=merged.pk).update(frequency="monthly")
    elif case == "breakout":
        Indicator.objects.filter(pk=merged.pk).update(parent=survivor)
    elif case == "already merged":
        Indicator.objects.filter(pk=merged.pk).update(merged_into=IndicatorFactory(agency=survivor.agency))
    elif case == "two open cases":
        FlagFactory(indicator=survivor)
        FlagFactory(indicator=merged)
    before = _state()

    with pytest.raises(error) as refused:
        indicator_merge(actor=actor, survivor=survivor, merged=merged)

    assert message in refused.value.message
    assert _state() == before


def test_the_api_merges_for_an_ops_lead_only(pair, lead, liaison, client):
    survivor, merged = pair
    url = f"/api/v1/indicators/{survivor.pk}/merge/"
    client.force_login(liaison)
    assert client.post(url, {"merged": merged.pk}, content_type="application/json").status_code == 403
    client.force_login(lead)
    missing = client.post(url, {"merged": 999999}, content_type="application/json")
    assert missing.status_code == 400 and missing.json()["fields"] == {"merged": ["No indicator has the id 999999."]}
    itself = client.post(url, {"merged": survivor.pk}, content_type="application/json")
    assert itself.status_code == 400
    assert not Event.objects.filter(verb="indicator.merged").exists()

    response = client.post(url, {"merged": merged.pk}, content_type="application/json")

    assert response.status_code == 200 and response.json()["external_id"] == "8872"
    assert Indicator.objects.get(pk=merged.pk).merged_into_id == survivor.pk
    assert Event.objects.filter(verb="indicator.merged").count() == 1
    # The merged indicator says where it went; the survivor went nowhere.
    shown = client.get(f"/api/v1/indicators/{merged.pk}/").json()
    assert (shown["merged_into"], shown["active"]) == (survivor.pk, False)
    assert client.get(f"/api/v1/indicators/{survivor.pk}/").json()["merged_into"] is None
    again = client.post(url, {"merged": merged.pk}, content_type="application/json")
    assert again.status_code == 409


def test_the_indicator_page_offers_the_merge_to_an_ops_lead(pair, lead, liaison, client):
    survivor, merged = pair
    IndicatorFactory(agency=survivor.agency, frequency="monthly")  # not one series: not offered
    client.force_login(liaison)
    assert b'data-testid="merge-form"' not in client.get(f"/indicators/{survivor.pk}/").content
    assert client.post(f"/indicators/{survivor.pk}/merge/", {"merged": merged.pk}).status_code == 403
    client.force_login(lead)
    page = client.get(f"/indicators/{survivor.pk}/")
    assert page.status_code == 200 and b'data-testid="merge-form"' in page.content
    choices = list(page.context["merge_form"].fields["merged"].queryset)
    assert choices == [merged]

    response = client.post(f"/indicators/{survivor.pk}/merge/", {"merged": merged.pk})

    assert response.status_code == 302
    assert Event.objects.filter(verb="indicator.merged").count() == 1
    husk = client.get(f"/indicators/{merged.pk}/")
    assert b'data-testid="merged-into"' in husk.content and b'data-testid="merge-form"' not in husk.content
    timeline = client.get(f"/indicators/{survivor.pk}/").content.decode()
    assert "merged MMR-311-311-online-site-visits-000 “311 Online site visits (000)” into this indicator" in timeline


def test_the_command_merges_as_the_named_ops_lead(pair, lead, capsys):
    _, merged = pair
    with pytest.raises(CommandError, match='no user is called "nobody"'):
        call_command("merge_indicators", "8872", merged.external_id, "--as", "nobody")
    with pytest.raises(CommandError, match="no indicator has the MMR ID 404"):
        call_command("merge_indicators", "8872", "404", "--as", lead.username)

    call_command("merge_indicators", "8872", merged.external_id, "--as", lead.username)

    assert f"{merged.external_id} merged into 8872" in capsys.readouterr().out
    assert Event.objects.get(verb="indicator.merged").actor == lead
