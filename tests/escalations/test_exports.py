"""Every CSV export, pages and API: a spreadsheet never runs a cell as a formula, and a moment is written in
New York time with its UTC offset."""

import csv
import io
import re
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from core.permissions import Role
from escalations import services
from escalations.models import Event

from ..factories import IndicatorFactory

FORMULA = re.compile(r"^[=+@\t\r]|^-(?!\d)")
NEW_YORK_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?-0[45]:00$")

EXPORTS = {
    "flags API": lambda: (reverse("api:flag-list"), {"format": "csv"}),
    "events API": lambda: (reverse("api:event-list"), {"format": "csv"}),
    "audit log page": lambda: (reverse("audit_log"), {"format": "csv"}),
    "operations report page": lambda: (reverse("operations_report"), {"format": "csv"}),
}


def _rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    return list(csv.DictReader(io.StringIO(content.decode())))


@pytest.mark.django_db
@pytest.mark.parametrize("export", EXPORTS)
def test_a_name_starting_with_a_formula_is_exported_as_text(export, client, make_user, agency):
    lead = make_user(Role.OPS_LEAD, username="@SUM(1)")
    indicator = IndicatorFactory(agency=agency, external_id="=1+2", name='=HYPERLINK("http://evil.example")')
    flag = services.flag_raise(indicator=indicator, actor=lead, severity="red", summary="+cmd|' /C calc'!A0")
    services.flag_dismiss(flag=flag, actor=lead, reason_code="explained_by_agency", note="-explained by the agency")
    client.force_login(lead)
    url, query = EXPORTS[export]()

    rows = _rows(client.get(url, query, follow=True))

    cells = [cell for row in rows for cell in row.values()]
    assert cells, "the export lists the case or its events"
    assert not [cell for cell in cells if FORMULA.match(cell)]
    assert {"'=1+2", '\'=HYPERLINK("http://evil.example")', "'@SUM(1)", "'+cmd|' /C calc'!A0"} & set(cells)
    moments = [cell for row in rows for name, cell in row.items() if name.endswith("_at") and cell]
    assert moments and all(NEW_YORK_MOMENT.match(moment) for moment in moments), moments


@pytest.mark.django_db
def test_the_audit_export_writes_the_stored_moment_in_new_york_time(client, make_user, agency):
    lead = make_user(Role.OPS_LEAD)
    services.flag_raise(indicator=IndicatorFactory(agency=agency), actor=lead, severity="red", summary="x")
    client.force_login(lead)
    event = Event.objects.latest("id")
    rows = _rows(client.get(reverse("audit_log"), {"format": "csv"}, follow=True))
    row = next(row for row in rows if row["id"] == str(event.pk))
    assert row["occurred_at"] == event.occurred_at.astimezone(ZoneInfo("America/New_York")).isoformat()
