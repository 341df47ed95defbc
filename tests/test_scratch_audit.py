import pytest

pytestmark = pytest.mark.django_db


def test_sla(client, auditor):
    client.force_login(auditor)
    r = client.post("/sla/", {"review_days_red": 3, "review_days_yellow": 5, "decision_days": 5, "lead_grace_days": 2})
    print("STATUS", r.status_code)
    r = client.post("/sla/", {})
    print("STATUS", r.status_code)
