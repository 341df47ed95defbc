"""Who hears about what. One function decides the recipients of an event; the task sends the e-mails."""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail

from indicators.roles import Role

from .audit import Verb, verb_label
from .models import Escalation, Event, Severity

User = get_user_model()

DECISION_VERBS = {Verb.FLAG_RETURNED, Verb.FLAG_DELEGATED, Verb.FLAG_CONVERTED}


def recipients_of(event: Event) -> list:
    """The users who should hear of ``event`` (never the person who acted)."""
    users = User.objects.none()
    flag = event.flag
    if event.verb == Verb.FLAG_ESCALATED and flag is not None:
        portfolio = flag.indicator.agency.portfolio
        if portfolio is not None:
            users = portfolio.members.filter(groups__name=Role.DEPUTY_MAYOR)
    elif event.verb in DECISION_VERBS and flag is not None:
        escalation = Escalation.objects.filter(flag=flag).order_by("-escalated_at").first()
        if escalation is not None:
            users = User.objects.filter(pk=escalation.escalated_by_id)
    elif event.verb in (Verb.FLAG_DETECTED, Verb.FLAG_CREATED, Verb.FLAG_REGRESSED) and flag is not None:
        if flag.severity == Severity.RED:
            users = flag.indicator.agency.liaisons.filter(groups__name=Role.LIAISON)
    elif event.verb in (Verb.PROJECT_CREATED, Verb.PROJECT_COMPLETED) and event.project is not None:
        users = User.objects.filter(pk=event.project.owner_id)
    if event.actor_id:
        users = users.exclude(pk=event.actor_id)
    return list(users.filter(is_active=True).exclude(email="").distinct())


def event_subject(event: Event) -> str:
    subject = f"[Percolate] {verb_label(event.verb)}"
    if event.flag_id:
        subject += f": {event.flag.indicator.name}"
    elif event.project_id:
        subject += f": {event.project.title}"
    return subject[:200]


def notify_event(event_id: int) -> int:
    """Send the e-mails for one event; returns how many were sent."""
    event = Event.objects.select_related("flag__indicator__agency__portfolio", "project", "actor").get(pk=event_id)
    recipients = recipients_of(event)
    if not recipients:
        return 0
    body = f"{event.actor_name} — {verb_label(event.verb)}\n{event.occurred_at:%Y-%m-%d %H:%M}\n"
    if event.flag_id:
        body += f"Flag #{event.flag_id}: {event.flag.indicator}\n"
    for key, value in event.data.items():
        body += f"{key}: {value}\n"
    send_mail(event_subject(event), body, settings.DEFAULT_FROM_EMAIL, [user.email for user in recipients])
    return len(recipients)
