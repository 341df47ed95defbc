"""The triage queue as a liaison works it — what is due, filters that offer only their own scope, saved views,
a refused bulk action that keeps its selection, no pre-chosen dismiss reason — and the notifications page:
one row per case, with its agency and severity, paged, and a digest that can be limited to red."""

import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from core.permissions import Role
from escalations import services
from escalations.lifecycle import FlagStatus
from escalations.models import EmailMode, Event, Flag, Notification, NotificationPreference, SavedView
from escalations.services.notifications import digests_send, notifications_create_many
from escalations.services.outbox import outbox_dispatch

from ..factories import AgencyFactory, FlagFactory, IndicatorFactory

pytestmark = pytest.mark.django_db

QUEUE = reverse("flag_queue")


def rows(html: str) -> list[int]:
    return [int(pk) for pk in re.findall(r'<tr data-flag="(\d+)"', html)]


def row(html: str, pk: int) -> str:
    return html.split(f'<tr data-flag="{pk}"', 1)[1].split("</tr>", 1)[0]


def options(html: str, name: str) -> set[str]:
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert select is not None, name
    return set(re.findall(r'<option value="([^"]+)"', select.group(1)))


@pytest.fixture
def deadlines(agency):
    """An overdue case, one due in two days, one in three weeks, and one in review (no deadline)."""
    now = timezone.now()
    return {
        "overdue": FlagFactory(indicator__agency=agency, severity="red", due_at=now - dt.timedelta(days=1)),
        "soon": FlagFactory(indicator__agency=agency, due_at=now + dt.timedelta(days=2)),
        "later": FlagFactory(indicator__agency=agency, due_at=now + dt.timedelta(days=21)),
        "none": FlagFactory(indicator__agency=agency),
    }


def test_the_queue_shows_sorts_and_filters_by_what_is_due(client, liaison, deadlines):
    services.flag_review(flag=deadlines["none"], actor=liaison)  # in review: no deadline
    client.force_login(liaison)
    page = client.get(QUEUE, {"open": "true", "ordering": "due"}).text
    assert rows(page) == [deadlines[name].pk for name in ("overdue", "soon", "later", "none")]
    assert '<th scope="col">Due</th>' in page
    overdue = row(page, deadlines["overdue"].pk)
    assert 'class="overdue"' in overdue and ">Overdue<" in overdue and "review was due" in overdue
    soon = row(page, deadlines["soon"].pk)
    assert "Overdue" not in soon and "review in 1\xa0day" in soon  # two days less the test's milliseconds
    assert "No deadline" in row(page, deadlines["none"].pk)
    assert rows(client.get(QUEUE, {"due": "overdue"}).text) == [deadlines["overdue"].pk]
    assert rows(client.get(QUEUE, {"due": "week"}).text) == [deadlines["soon"].pk]
    assert 'value="overdue"' in page and "Due in the next 7 days" in page  # the filter is on the page's form


def test_a_closed_case_is_never_overdue(client, liaison, deadlines):
    services.flag_dismiss(flag=deadlines["overdue"], actor=liaison, reason_code="other", note="Explained")
    Flag.objects.filter(pk=deadlines["overdue"].pk).update(due_at=timezone.now() - dt.timedelta(days=3))
    client.force_login(liaison)
    assert rows(client.get(QUEUE, {"due": "overdue"}).text) == []


def test_the_api_documents_the_due_filter_and_sort(client):
    schema = client.get("/api/v1/schema/?format=json").json()
    parameters = {p["name"]: p for p in schema["paths"]["/api/v1/flags/"]["get"]["parameters"]}
    assert parameters["due"]["schema"]["enum"] == ["overdue", "week"]
    assert "due" in parameters["ordering"]["schema"]["enum"]


def test_a_liaison_is_offered_only_their_agencies(client, make_user, liaison, lead, agency, other_agency):
    client.force_login(liaison)
    page = client.get(QUEUE, {"open": "true"}).text
    assert options(page, "agency") == {agency.code}
    assert options(page, "portfolio") == {agency.portfolio.code}
    client.force_login(lead)
    page = client.get(QUEUE, {"open": "true"}).text
    assert {agency.code, other_agency.code} <= options(page, "agency")


def test_a_deputy_mayor_is_offered_their_portfolios_agencies(client, deputy, agency, other_agency):
    sibling = AgencyFactory(portfolio=agency.portfolio)
    client.force_login(deputy)
    page = client.get(QUEUE, {"open": "true"}).text
    assert options(page, "agency") == {agency.code, sibling.code}
    assert options(page, "portfolio") == {agency.portfolio.code}
    audit_log = client.get(reverse("audit_log"), {"ordering": "-id"}).text  # the other scoped list
    assert options(audit_log, "agency") == {agency.code, sibling.code}


def test_saved_views_are_a_persons_own(client, make_user, liaison, agency, deadlines):
    client.force_login(liaison)
    events = Event.objects.count()
    saved = client.post(
        reverse("saved_view_create"), {"name": " my  red overdue ", "query": "severity=red&due=overdue&page=3&x=1"}
    )
    assert saved.status_code == 302 and saved["Location"] == f"{QUEUE}?severity=red&due=overdue"
    page = client.get(saved["Location"]).text
    assert rows(page) == [deadlines["overdue"].pk]
    assert f'<a href="{QUEUE}?severity=red&amp;due=overdue" aria-current="page">my red overdue</a>' in page
    assert "Save this view as" not in page  # already saved
    # The same name again replaces its filters; the name is the person's own.
    client.post(reverse("saved_view_create"), {"name": "my red overdue", "query": "due=week"})
    assert list(SavedView.objects.values_list("name", "query")) == [("my red overdue", "due=week")]
    assert Event.objects.count() == events  # a preference, not an audited change
    other = make_user(Role.LIAISON, agencies=[agency], username="other")
    client.force_login(other)
    assert 'data-testid="saved-views"' not in client.get(QUEUE, {"open": "true"}).text
    view = SavedView.objects.get()
    assert client.post(reverse("saved_view_remove", args=[view.pk])).status_code == 404
    client.post(reverse("saved_view_create"), {"name": "my red overdue", "query": "severity=red"})
    assert SavedView.objects.count() == 2
    client.force_login(liaison)
    assert client.post(reverse("saved_view_remove", args=[view.pk])).status_code == 302
    assert not SavedView.objects.filter(user=liaison).exists()


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"name": "", "query": "severity=red"}, "This field is required."),
        ({"name": "Everything", "query": "page=2"}, "Choose some filters or a sort first"),
        ({"name": "x" * 101, "query": "severity=red"}, "at most 100 characters"),
    ],
)
def test_a_refused_saved_view_is_shown_on_the_queue(client, liaison, data, problem):
    client.force_login(liaison)
    response = client.post(reverse("saved_view_create"), data)
    assert response.status_code == 400
    assert problem in response.text and "Triage queue" in response.text
    assert not SavedView.objects.exists()


def test_a_failed_bulk_action_keeps_the_selection_and_the_action(client, liaison, agency):
    first, second = FlagFactory(indicator__agency=agency), FlagFactory(indicator__agency=agency)
    client.force_login(liaison)
    events = Event.objects.count()
    back = f"{QUEUE}?open=true&ordering=-id"
    response = client.post(
        reverse("flag_bulk"),
        {"ids": [first.pk], "action": "dismiss", "bulk-dismiss-note": "Mis-keyed by the agency", "next": back},
    )
    assert response.status_code == 400
    text = response.text
    assert "Nothing was done." in text and "This field is required." in text
    assert "checked" in row(text, first.pk) and "checked" not in row(text, second.pk)
    assert '<option value="dismiss" selected>' in text
    assert "Mis-keyed by the agency</textarea>" in text
    assert f'name="next" value="{back.replace("&", "&amp;")}"' in text  # the next try goes back to that view
    assert 'action="/flags/"' in text  # the filters still ask the queue, not the bulk address
    assert Event.objects.count() == events
    assert Flag.objects.get(pk=first.pk).status == FlagStatus.DETECTED

    nothing_selected = client.post(reverse("flag_bulk"), {"action": "review", "next": back})
    assert nothing_selected.status_code == 400
    assert "Select at least one case." in nothing_selected.text
    assert '<option value="review" selected>' in nothing_selected.text


def test_no_dismiss_reason_is_chosen_for_the_user(client, liaison, agency):
    flag = FlagFactory(indicator__agency=agency)
    client.force_login(liaison)
    for page in (client.get(reverse("flag_detail", args=[flag.pk])).text, client.get(QUEUE, {"open": "true"}).text):
        select = re.search(r'<select name="[a-z-]*dismiss-reason_code".*?</select>', page, re.S)
        assert select is not None
        assert '<option value="" selected>Choose a reason</option>' in select.group(0)
    response = client.post(reverse("flag_act", args=[flag.pk, "dismiss"]), {"dismiss-note": "Mis-keyed"})
    assert response.status_code == 400 and "This field is required." in response.text
    assert Flag.objects.get(pk=flag.pk).status == FlagStatus.DETECTED


@pytest.fixture
def raiser(make_user, agency):
    """Another liaison of the agency, whose new red cases ``liaison`` hears of."""
    return make_user(Role.LIAISON, agencies=[agency], username="raiser")


def raise_red(raiser, agency, n: int) -> list[Flag]:
    flags = [
        services.flag_raise(indicator=IndicatorFactory.create(agency=agency), actor=raiser, severity="red", summary="s")
        for _ in range(n)
    ]
    notifications_create_many(event_ids=list(Event.objects.filter(flag__in=flags).values_list("pk", flat=True)))
    return flags


def test_notifications_are_one_row_per_case_with_agency_and_severity(client, liaison, deputy, raiser, agency):
    flag = raise_red(raiser, agency, 1)[0]
    services.flag_review(flag=flag, actor=liaison)
    services.flag_escalate(flag=flag, actor=liaison, summary="s", recommendation="r")
    services.flag_return(flag=flag, actor=deputy, question="Why now?")
    notifications_create_many(event_ids=[Event.objects.get(flag=flag, verb="flag.returned").pk])
    assert Notification.objects.filter(user=liaison).count() == 2
    client.force_login(liaison)
    page = client.get(reverse("notification_list")).text
    shown = re.findall(r'<tr data-notification="(\d+)"', page)
    latest = Notification.objects.filter(user=liaison).latest("id")
    assert shown == [str(latest.pk)]
    assert latest.event.verb == "flag.returned" and latest.title in page
    assert "and 1 earlier update on this case" in page
    assert f">{agency.code}</abbr>" in page and "rag-red" in page
    assert "<strong>2 unread</strong>" in page
    client.post(reverse("notification_list"))  # mark all read
    page = client.get(reverse("notification_list")).text
    assert "unread" not in page.split("<tbody>")[1].split("</tbody>")[0].lower()
    assert not Notification.objects.filter(user=liaison, read_at__isnull=True).exists()


def test_notifications_are_paged(client, liaison, raiser, agency):
    raise_red(raiser, agency, 51)
    client.force_login(liaison)
    first = client.get(reverse("notification_list")).text
    assert first.count("<tr data-notification=") == 50
    assert "Page 1 of 2" in first and 'href="?page=2"' in first
    second = client.get(reverse("notification_list"), {"page": "2"}).text
    assert second.count("<tr data-notification=") == 1
    oldest = Notification.objects.filter(user=liaison).earliest("id")
    assert f'<tr data-notification="{oldest.pk}"' in second


def test_the_red_only_digest_tells_only_of_red_cases(client, liaison, deputy, raiser, agency, flag_in):
    client.force_login(liaison)
    client.post(reverse("notification_list"), {"email_mode": EmailMode.DIGEST_RED})
    assert NotificationPreference.objects.get(user=liaison).email_mode == EmailMode.DIGEST_RED
    yellow = services.flag_return(flag=flag_in(FlagStatus.ESCALATED), actor=deputy, question="Why?")
    notifications_create_many(event_ids=[Event.objects.get(flag=yellow, verb="flag.returned").pk])
    red = raise_red(raiser, agency, 1)[0]
    assert Notification.objects.filter(user=liaison).count() == 2
    outbox_dispatch()

    def to_liaison() -> list:
        return [message for message in mail.outbox if message.to == [liaison.email]]

    assert to_liaison() == []  # a digest user gets no immediate e-mail
    assert digests_send() == 1
    outbox_dispatch()
    (digest,) = to_liaison()
    assert "1 update(s)" in digest.subject
    assert red.indicator.name in digest.body and yellow.indicator.name not in digest.body
    assert digests_send() == 0  # the yellow one stays in the app
