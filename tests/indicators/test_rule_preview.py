"""The rules page previews a change on current data with the real engine, and writes nothing."""

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
    rule = ThresholdRule.objects.get(kind="target")
    client.force_login(lead)
    form = {"name": rule.name, "yellow": "0", "red": "0", "params": "{}", "critical_factor": "0.5", "active": "on"}
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
