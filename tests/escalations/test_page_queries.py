"""The dashboard and the triage queue cost a fixed number of queries on the full real data set (1,139
indicators of the NYC PMMR FY2023 file), however many indicators and flags there are."""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.permissions import Role
from escalations import services
from escalations.models import Flag
from indicators.models import Agency, Indicator
from indicators.services import import_file

from ..factories import FlagFactory

DATA = Path(settings.BASE_DIR) / "indicators" / "data" / "nyc-pmmr-fy2023-indicators.csv"
# Session, user, roles, the header's work count, the scope where the page needs it, then the page's own reads
# (filter choices, indicators, series, case counts / the page of cases, its signals and its count). None grows
# with the data.
# The dashboard: the summary's counts and its agencies, the open cases per agency; a page of indicators adds its
# count, its rows and their series; a search, the agencies it names. The header counts unread notifications.
DASHBOARD_MAX_QUERIES = 14
# The queue: the page of cases brings their signals (one query), the bulk form's choices (three), the saved views (one).
QUEUE_MAX_QUERIES = 18

pytestmark = pytest.mark.django_db


@pytest.fixture
def real_data():
    import_file(file_name=DATA.name, content=DATA.read_bytes())
    assert Indicator.objects.count() == 1139


def open_flags(n: int, codes=("DSNY", "DOT", "NYPD")) -> None:
    indicators = list(Indicator.objects.filter(agency__code__in=codes).exclude(flags__isnull=False).order_by("pk")[:n])
    for indicator in indicators:
        FlagFactory(indicator=indicator, signal__rule__name=f"rule for {indicator.pk}")


QUEUE = {"open": "true", "category": "performance", "ordering": "-priority"}  # the queue's everyday view


def count_queries(client, url, **params) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params)
    assert response.status_code == 200
    return len(queries)


@pytest.fixture
def liaison_of_dsny(make_user):
    return make_user(Role.LIAISON, agencies=[Agency.objects.get(code="DSNY")], username="dsny-liaison")


def test_dashboard_queries_are_fixed_on_the_full_data(
    real_data, client, liaison_of_dsny, django_assert_max_num_queries
):
    open_flags(5)
    client.force_login(liaison_of_dsny)
    with django_assert_max_num_queries(DASHBOARD_MAX_QUERIES):
        response = client.get(reverse("dashboard"))
    assert response.text.count("data-agency=") == Agency.objects.filter(indicators__active=True).distinct().count()
    few = count_queries(client, reverse("dashboard"))
    open_flags(40)
    assert count_queries(client, reverse("dashboard")) == few
    assert (
        count_queries(client, reverse("dashboard"), portfolio="OPS", rag="red", critical="true")
        <= DASHBOARD_MAX_QUERIES
    )
    # A page of indicators (50, with their trends) costs as much as the first page of a few.
    with django_assert_max_num_queries(DASHBOARD_MAX_QUERIES):
        response = client.get(reverse("dashboard"), {"critical": "false", "page": "2"})
    assert response.text.count("data-indicator=") == 50 and response.text.count('<svg class="sparkline"') > 40
    assert count_queries(client, reverse("dashboard"), agency="DSNY") == count_queries(
        client, reverse("dashboard"), agency="DOHMH", page="2"
    )


def test_queue_queries_are_fixed_on_the_full_data(real_data, client, make_user, django_assert_max_num_queries):
    lead = make_user(Role.OPS_LEAD, username="queue-lead")
    open_flags(5)
    client.force_login(lead)
    few = count_queries(client, reverse("flag_queue"), **QUEUE)
    open_flags(60)
    for flag in Flag.objects.all()[:10]:
        services.flag_review(flag=flag, actor=lead)
    with django_assert_max_num_queries(QUEUE_MAX_QUERIES):
        response = client.get(reverse("flag_queue"), QUEUE)
    assert response.text.count('name="ids"') == 50  # a full page
    assert count_queries(client, reverse("flag_queue"), **QUEUE) == few
    assert count_queries(client, reverse("flag_queue"), ordering="agency", severity="yellow") <= QUEUE_MAX_QUERIES


def test_inbox_queries_do_not_grow_with_the_escalations(client, make_user, agency):
    from escalations.services import flag_escalate, flag_review

    liaison = make_user(Role.LIAISON, agencies=[agency], username="inbox-liaison")
    deputy = make_user(Role.DEPUTY_MAYOR, portfolios=[agency.portfolio], username="inbox-deputy")
    client.force_login(deputy)

    def escalate(n: int) -> None:
        for _ in range(n):
            flag = flag_review(flag=FlagFactory.create(indicator__agency=agency), actor=liaison)
            flag_escalate(flag=flag, actor=liaison, summary="s", recommendation="r")

    escalate(1)
    one = count_queries(client, reverse("inbox"))
    escalate(4)
    assert count_queries(client, reverse("inbox")) == one
    assert client.get(reverse("inbox")).text.count("Convert to project</summary>") == 5
