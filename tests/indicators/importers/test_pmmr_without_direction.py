"""A PMMR open-data extract as NYC publishes it: no ``desired_direction`` column. Imported through the API and
the command; directions come from the indicator when it exists, else from ``Up``/``Down`` targets, else Neutral
with a warning per indicator; re-importing changes nothing."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from escalations.models import Event
from indicators.models import ImportBatch, Indicator, Measurement
from indicators.services import import_file, indicator_update

from ...api.conftest import API, client_for  # noqa: F401
from ..conftest import DATA, FY16_SAMPLE, fingerprint, load, nothing_changed

PMMR = DATA / "pmmr-fy17-no-direction.csv"
HEADER = (
    "agency,pmmr_goal,critical,performance_indicator,fy14,fy15,fy16,tgt17,tgt18,fy16_4_month_actual,fy17_4_month_actual"
)
WAIT = "MMR-311-average-wait-time-tier-1-calls-minutes-seconds"

pytestmark = pytest.mark.django_db


def upload(api, content: bytes, name: str = PMMR.name):
    file = SimpleUploadedFile(name, content, content_type="text/csv")
    return api.post(f"{API}imports/", {"file": file}, format="multipart")


def direction_warnings(warnings: list[dict]) -> dict[int, str]:
    return {warning["line"]: warning["message"] for warning in warnings if "desired direction" in warning["message"]}


def directions() -> dict[str, str]:
    return dict(Indicator.objects.values_list("external_id", "desired_direction"))


def test_the_file_has_exactly_the_published_header():
    assert PMMR.read_text().splitlines()[0] == HEADER


def test_a_pmmr_extract_without_directions_imports_through_the_api(client_for, lead):  # noqa: F811
    response = upload(client_for(lead), PMMR.read_bytes())

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["batch"]["format"] == "mmr_wide" and body["batch"]["rows_read"] == 6
    assert body["counts"]["indicators_created"] == 12  # six indicators and their 4-month series
    assert directions() == {
        "MMR-311-311-calls-000": "neutral",
        "MMR-311-311-calls-000-4M": "neutral",
        WAIT: "neutral",  # numeric targets say nothing of a direction
        f"{WAIT}-4M": "neutral",
        "MMR-311-311-online-site-visits-000": "up",
        "MMR-311-311-online-site-visits-000-4M": "up",
        "MMR-DSNY-missed-collections-pct": "down",  # tgt17 Down, tgt18 *: any year's target counts
        "MMR-DSNY-missed-collections-pct-4M": "down",
        "MMR-DSNY-tons-of-refuse-disposed-per-truck-shift": "neutral",
        "MMR-DSNY-tons-of-refuse-disposed-per-truck-shift-4M": "neutral",
        "MMR-DOT-potholes-repaired-000": "up",
        "MMR-DOT-potholes-repaired-000-4M": "up",
    }
    # One warning per indicator left Neutral (not per 4-month series), naming it and saying how to set it.
    warned = direction_warnings(body["warnings"])
    assert sorted(warned) == [2, 3, 6]
    assert warned[3].startswith('"Average wait time (tier 1 calls) (minutes:seconds)" of 3-1-1 gets the desired')
    assert "no desired_direction column and no Up or Down target" in warned[3]
    assert f"admin page (Indicators, {WAIT})" in warned[3] and "import a file with a desired_direction" in warned[3]
    # The rest of the file is read as any wide extract: 4-month values are a preliminary series of their own,
    # the optional critical and goal columns are read, and the target kept is that of the latest year with a
    # value (tgt17, for FY17's 4-month value: the file has no tgt16), not next year's.
    wait = Indicator.objects.get(external_id=WAIT)
    assert wait.critical and wait.goal == "1a" and (wait.target_kind, wait.target) == ("numeric", Decimal(30))
    assert list(wait.measurements.values_list("period", "value", "preliminary")) == [
        (dt.date(2013, 7, 1), Decimal(23), False),
        (dt.date(2014, 7, 1), Decimal(23), False),
        (dt.date(2015, 7, 1), Decimal(16), False),
    ]
    assert list(
        Indicator.objects.get(external_id=f"{WAIT}-4M").measurements.values_list("period", "value", "preliminary")
    ) == [(dt.date(2015, 7, 1), Decimal(18), True), (dt.date(2016, 7, 1), Decimal(21), True)]
    assert Indicator.objects.get(external_id="MMR-DOT-potholes-repaired-000").target_kind == "none"  # tgt17 "*"


def test_reimporting_changes_nothing(client_for, lead):  # noqa: F811
    api = client_for(lead)
    assert upload(api, PMMR.read_bytes()).status_code == 201
    before, events = fingerprint(), Event.objects.count()

    again = upload(api, PMMR.read_bytes())  # the same file: recognised, nothing written
    assert again.status_code == 200 and again.json()["duplicate_of"] is not None
    assert (fingerprint(), Event.objects.count()) == (before, events)

    # The same rows in another file (Windows line endings): every value unchanged, no indicator redefined, no
    # direction warned about again (the indicators exist now).
    out = io.StringIO()
    copy = PMMR.read_bytes().replace(b"\n", b"\r\n")
    outcome = import_file(file_name="pmmr-again.csv", content=copy)
    assert outcome.counts == nothing_changed(Measurement.objects.count())
    assert outcome.warnings == []
    after = fingerprint()
    assert after[:4] == before[:4] and after[5:] == before[5:] and after[4] == before[4] + 1  # only a new batch
    assert list(Event.objects.order_by("id").values_list("verb", flat=True)[events:]) == ["import.completed"]
    call_command("import_indicators", str(PMMR), "--no-progress", stdout=out)
    assert "identical to import batch" in out.getvalue()


def test_an_existing_indicator_keeps_its_direction_and_its_new_4_month_series_follows_it():
    load(FY16_SAMPLE)  # with desired_direction: the wait time is Down, 311 calls Neutral
    assert Indicator.objects.get(external_id=WAIT).desired_direction == "down"

    outcome = load(PMMR)

    assert Indicator.objects.get(external_id=WAIT).desired_direction == "down"
    assert Indicator.objects.get(external_id=f"{WAIT}-4M").desired_direction == "down"  # new, from its indicator
    assert outcome.counts["indicators_created"] == 9  # 3 indicators new to the database, 6 4-month series
    # Only the new indicator the file gives no direction for is warned about.
    assert [w.line for w in outcome.warnings if "desired direction" in w.message] == [6]


def test_a_direction_set_by_an_administrator_survives_reimports(make_user):
    load(PMMR)
    tons = Indicator.objects.get(external_id="MMR-DSNY-tons-of-refuse-disposed-per-truck-shift")
    indicator_update(indicator=tons, actor=make_user("admin"), desired_direction="up", critical=True)

    outcome = import_file(file_name="pmmr-again.csv", content=PMMR.read_bytes() + b"\n")

    tons.refresh_from_db()
    assert tons.desired_direction == "up"  # not in the file: kept
    assert not tons.critical  # in the file: the file's
    assert outcome.counts["indicators_updated"] == 1 and outcome.warnings == []


def test_a_file_with_the_direction_column_still_sets_it():
    load(PMMR)
    with_direction = PMMR.read_text().replace("fy17_4_month_actual", "fy17_4_month_actual,desired_direction")
    with_direction = "\n".join(line + ("" if n == 0 else ",Down") for n, line in enumerate(with_direction.splitlines()))

    outcome = import_file(file_name="with-direction.csv", content=with_direction.encode())

    assert set(directions().values()) == {"down"}
    assert outcome.counts["indicators_updated"] == 10 and outcome.warnings == []  # missed collections was Down


def test_only_agency_indicator_and_values_are_required():
    content = b"agency,performance_indicator,fy16,fy17_4_month_actual\nDSNY,Tons collected,10,4\n"

    outcome = import_file(file_name="bare.csv", content=content)

    tons = Indicator.objects.get(external_id="MMR-DSNY-tons-collected")
    assert (tons.desired_direction, tons.critical, tons.goal, tons.target_kind) == ("neutral", False, "", "none")
    assert [w.line for w in outcome.warnings] == [2]
    assert ImportBatch.objects.count() == 1


def test_targets_that_disagree_give_the_latest_direction_with_a_warning():
    content = (
        f"{HEADER}\n"
        "DSNY,1a,FALSE,Tons collected,1,2,3,Down,Up,1,2\n"  # the latest target (FY18) says Up
        "DSNY,1a,FALSE,Tons recycled,1,2,3,Up,Up,1,2\n"
    ).encode()

    outcome = import_file(file_name="disagree.csv", content=content)

    assert directions() == {
        "MMR-DSNY-tons-collected": "up",
        "MMR-DSNY-tons-collected-4M": "up",
        "MMR-DSNY-tons-recycled": "up",
        "MMR-DSNY-tons-recycled-4M": "up",
    }
    (warning,) = [w for w in outcome.warnings if "desired direction" in w.message]
    assert warning.line == 2
    assert "gets the desired direction Up from its latest target, but an earlier target" in warning.message
    assert "says Down" in warning.message
    # Imported again, the indicator exists and keeps its direction: nothing to warn about.
    assert not import_file(file_name="disagree-again.csv", content=content + b"\n").warnings
