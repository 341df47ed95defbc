"""Ops pages backed by the engine and the importer: the rule preview (real engine, nothing written) and the
import page's progress."""

from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from escalations.models import Flag
from indicators.models import ThresholdRule
from indicators.services import import_file

REAL_FILE = Path(settings.BASE_DIR) / "indicators" / "data" / "nyc-pmmr-fy2023-indicators.csv"

pytestmark = pytest.mark.django_db


def test_preview_counts_what_the_changed_rule_would_flag_and_saves_nothing(client, lead):
    import_file(file_name=REAL_FILE.name, content=REAL_FILE.read_bytes())
    ThresholdRule.objects.exclude(kind="target").update(active=False)
    ThresholdRule.objects.filter(kind="target").update(yellow=0, red=10)
    rule = ThresholdRule.objects.get(kind="target")
    client.force_login(lead)
    form = {
        "name": rule.name,
        "yellow": "0",
        "red": "0",
        "critical_factor": "0.5",
        "scope": "all",
        "preliminary": "include",
        "active": "on",
    }
    page = client.post(reverse("rule_edit", args=[rule.pk]), {**form, "preview": "1"}).content.decode()
    assert "Preview on the data as of" in page

    # The same counts, computed independently: with red at 0 every indicator worse than its target is red.
    from indicators.detection.preview import rule_preview

    preview = rule_preview(rule=rule, changes={"yellow": 0, "red": 0})
    assert preview.proposed_total == preview.now_total > 0
    assert preview.proposed["red"] == preview.now_total and preview.proposed["yellow"] == 0
    assert f"would flag <strong>{preview.proposed_total}</strong>" in page

    rule.refresh_from_db()
    assert (rule.yellow, rule.red) == (0, 10)  # nothing saved
    assert not Flag.objects.exists()


def test_the_import_page_reports_progress_for_its_upload(client, lead):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(lead)
    page = client.get(reverse("import_upload")).content.decode()
    upload_id = page.split('name="upload_id" value="')[1].split('"')[0]
    progress_url = reverse("import_progress", args=[upload_id])
    assert client.get(progress_url).json() == {"done": 0, "total": 0}  # nothing yet
    upload = SimpleUploadedFile(REAL_FILE.name, REAL_FILE.read_bytes(), content_type="text/csv")
    assert client.post(reverse("import_upload"), {"file": upload, "upload_id": upload_id}).status_code == 200
    assert client.get(progress_url).json() == {"done": 1139, "total": 1139}
    assert client.get(reverse("import_progress", args=["not-an-id"])).json() == {"done": 0, "total": 0}


def test_the_rules_page_and_the_indicator_page_show_which_rules_apply(client, lead):
    from indicators.models import Indicator, RuleKind

    from ..factories import AgencyFactory, IndicatorFactory, RuleFactory

    agency = AgencyFactory(code="TST")
    covered, elsewhere = IndicatorFactory(agency=agency, external_id="940"), IndicatorFactory(external_id="941")
    own = RuleFactory(
        name="An agency rule of its own",
        kind=RuleKind.UNUSUAL_CHANGE,
        scope="agency",
        agency=agency,
        replaces_broader=True,
    )
    client.force_login(lead)
    page = client.get(reverse("rule_list"), {"indicator": "940"}).content.decode()
    listed = [rule for rule in ThresholdRule.objects.filter(active=True) if f'data-rule="{rule.pk}"' in page]
    rows = {rule.pk: page.split(f'data-rule="{rule.pk}"')[1].split("</tr>")[0] for rule in listed}
    marked = {pk for pk, row in rows.items() if "Applies</strong>" in row}
    city_wide = ThresholdRule.objects.filter(active=True, kind=RuleKind.UNUSUAL_CHANGE, scope="all")
    assert own.pk in marked and not marked & set(city_wide.values_list("pk", flat=True))  # replaced for DSNY
    assert 'data-applies-to="1"' in rows[own.pk]
    everywhere = Indicator.objects.count() - 1  # all indicators but the one whose agency has its own rule
    assert f'data-applies-to="{everywhere}"' in rows[city_wide.first().pk]
    detail = client.get(reverse("indicator_detail", args=[covered.pk])).content.decode()
    listed = detail.split('data-testid="rules-applying"')[1].split("</ul>")[0]
    assert own.name in listed and city_wide.first().name not in listed
    assert city_wide.first().name in client.get(reverse("indicator_detail", args=[elsewhere.pk])).content.decode()
    assert "No indicator has the MMR ID" in client.get(reverse("rule_list"), {"indicator": "nope"}).content.decode()
