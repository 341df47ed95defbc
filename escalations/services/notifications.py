"""Telling the right people, once.

Who hears what (``recipients_of``): a new red flag → the agency's liaisons; an escalation → the portfolio's
deputy mayor's office; a decision or return → the liaison who escalated; a project created or completed → its
owner and the liaisons who escalated its flags; an overdue flag → whoever holds the step (and, after a grace
period with nobody acting, the ops leads). The person who acted is never told of their own action.

Exactly once: a ``Notification`` row is unique per (user, event, reason), so creating them again adds nothing;
an e-mail goes out only from the worker whose UPDATE claimed ``emailed_at`` from NULL.

Scheduling (``notify_after_commit``): notifications leave only after the transaction that wrote the event
commits, so a rolled-back change never tells anybody anything."""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from core.errors import InvalidInput
from core.permissions import Role, holders

from ..audit_trail import Verb, verb_label
from ..lifecycle import FlagStatus, Severity
from ..models import EmailMode, Escalation, Event, Flag, Notification, NotificationPreference

if TYPE_CHECKING:
    from django.contrib.auth.models import User
else:
    User = get_user_model()

NEW_FLAG_VERBS = {Verb.FLAG_DETECTED, Verb.FLAG_CREATED, Verb.FLAG_REGRESSED}
DECISION_VERBS = {Verb.FLAG_RETURNED, Verb.FLAG_DELEGATED, Verb.FLAG_CONVERTED}
PROJECT_VERBS = {Verb.PROJECT_CREATED, Verb.PROJECT_COMPLETED}
OVERDUE_LEAD = "overdue_lead"


def notify_after_commit(event: Event) -> None:
    from ..tasks import notify_event

    event_id = event.pk
    transaction.on_commit(lambda: notify_event.delay(event_id))


def _with_role(users: "QuerySet[User]", role: str) -> "QuerySet[User]":
    return users.filter(holders(role))


def _escalators(flags: Iterable[Flag]) -> "QuerySet[User]":
    return User.objects.filter(pk__in=Escalation.objects.filter(flag__in=flags).values("escalated_by"))


def _overdue_audience(flag: Flag) -> "QuerySet[User]":
    """Whoever holds the overdue step: the deputy mayor's office of an escalated case, else its assignee,
    else the liaisons of its agency."""
    if flag.status == FlagStatus.ESCALATED and (portfolio := flag.indicator.agency.portfolio) is not None:
        return _with_role(portfolio.members.all(), Role.DEPUTY_MAYOR)
    if flag.assignee_id:
        return User.objects.filter(pk=flag.assignee_id)
    return _with_role(flag.indicator.agency.liaisons.all(), Role.LIAISON)


def _audience(event: Event, reason: str) -> "QuerySet[User]":
    flag = event.flag
    if reason == OVERDUE_LEAD:
        return _with_role(User.objects.all(), Role.OPS_LEAD)
    if event.verb == Verb.AUDIT_CHAIN_BROKEN:
        return _with_role(User.objects.all(), Role.ADMIN)
    if event.verb in PROJECT_VERBS and event.project is not None:
        # Without an owner, pk=None is Django's "IS NULL": nobody. The plugin's lookup types leave None out.
        owner = User.objects.filter(pk=event.project.owner_id)  # type: ignore[misc]
        return owner | _escalators(event.project.flags.all())
    if flag is None:
        return User.objects.none()
    if event.verb in NEW_FLAG_VERBS and flag.severity == Severity.RED:
        return _with_role(flag.indicator.agency.liaisons.all(), Role.LIAISON)
    if event.verb == Verb.FLAG_ESCALATED and (portfolio := flag.indicator.agency.portfolio) is not None:
        return _with_role(portfolio.members.all(), Role.DEPUTY_MAYOR)
    if event.verb in DECISION_VERBS:
        return _escalators([flag])
    if event.verb == Verb.FLAG_OVERDUE:
        return _overdue_audience(flag)
    return User.objects.none()


def recipients_of(event: Event, reason: str = "event") -> "QuerySet[User]":
    """The users who should hear of ``event`` for ``reason`` — never the person who acted."""
    users = _audience(event, reason)
    if event.actor_id:
        users = users.exclude(pk=event.actor_id)
    return users.filter(is_active=True).distinct()


def _new_case_audience(event: Event, reason: str) -> tuple[str, int, int | None] | None:
    """What the audience of a new red case depends on (its agency and who acted), or ``None`` for any other
    event: the key under which events of one agency share their recipients."""
    flag = event.flag
    if reason != "event" or event.verb not in NEW_FLAG_VERBS or flag is None or flag.severity != Severity.RED:
        return None
    return ("new red case", flag.indicator.agency_id, event.actor_id)


def _title(event: Event, reason: str) -> str:
    subject = "Overdue and untouched" if reason == OVERDUE_LEAD else verb_label(event.verb)
    if event.flag is not None:
        subject += f": {event.flag.indicator.name}"
    elif event.project is not None:
        subject += f": {event.project.title}"
    return subject[:300]


def notifications_create(*, event_id: int, reason: str = "event") -> list[Notification]:
    """Create the notifications of one event (safe to repeat: existing ones are kept, none added twice) and
    e-mail the recipients who want immediate e-mails. Returns the notifications of the event for ``reason``."""
    return notifications_create_many(event_ids=[event_id], reason=reason)


def notifications_create_many(*, event_ids: list[int], reason: str = "event") -> list[Notification]:
    """``notifications_create`` for many events at once (a detection shard's new red flags) in a few queries:
    the events are read together, and events whose recipients the same query finds (the same agency's
    liaisons, say) share one lookup. Returns the notifications of the events for ``reason``."""
    events = Event.objects.select_related("flag__indicator__agency__portfolio", "indicator", "project", "actor").filter(
        pk__in=event_ids
    )
    audiences: dict[tuple[object, ...], list[User]] = {}
    new = []
    for event in events.order_by("pk"):
        # A new red case tells its agency's liaisons: the events of one agency share one look-up, known before
        # any query is built (a check's shard has hundreds of them, and usually few agencies).
        shortcut = _new_case_audience(event, reason)
        if shortcut is not None and shortcut in audiences:
            users = audiences[shortcut]
        else:
            recipients = recipients_of(event, reason)
            try:
                sql, params = recipients.query.sql_with_params()
            except EmptyResultSet:  # nobody to tell, known without a query
                continue
            key = (sql, tuple(params))
            if key not in audiences:
                audiences[key] = list(recipients)
            users = audiences[key]
            if shortcut is not None:
                audiences[shortcut] = users
        if not users:
            continue
        title = _title(event, reason)
        body = render_to_string("emails/notification.txt", {"event": event, "title": title, "reason": reason})
        url = (
            f"/flags/{event.flag_id}/"
            if event.flag_id
            else (f"/projects/{event.project_id}/" if event.project_id else "")
        )
        new += [Notification(user=user, event=event, reason=reason, title=title, body=body, url=url) for user in users]
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    notifications = list(
        Notification.objects.filter(event_id__in=event_ids, reason=reason).select_related(
            "user__notification_preference"
        )
    )
    notifications_email([n for n in notifications if _email_mode(n.user) == EmailMode.IMMEDIATE])
    return notifications


def _email_mode(user: "User") -> str:
    preference = getattr(user, "notification_preference", None)
    return preference.email_mode if preference is not None else EmailMode.IMMEDIATE


def _claim(notification: Notification) -> bool:
    """Whether this process won the right to e-mail ``notification`` (exactly one process ever does)."""
    return (
        Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(emailed_at=timezone.now()) == 1
    )


def notifications_email(notifications: list[Notification]) -> int:
    """E-mail each notification that nobody has e-mailed yet; returns how many this call sent."""
    sent = 0
    for notification in notifications:
        if notification.user.email and _claim(notification):
            send_mail(
                f"[Percolate] {notification.title}"[:200],
                notification.body,
                settings.DEFAULT_FROM_EMAIL,
                [notification.user.email],
            )
            sent += 1
    return sent


def digests_send() -> int:
    """One e-mail per digest user with every notification not yet e-mailed. Safe to repeat and to run on
    two workers at once: each notification is claimed before it is included. Returns e-mails sent."""
    sent = 0
    pending = (
        Notification.objects.filter(emailed_at__isnull=True, user__notification_preference__email_mode=EmailMode.DIGEST)
        .select_related("user")
        .order_by("user_id", "created_at")
    )
    by_user: dict[User, list[Notification]] = {}
    for notification in pending:
        by_user.setdefault(notification.user, []).append(notification)
    for user, notifications in by_user.items():
        claimed = [n for n in notifications if _claim(n)]
        if claimed and user.email:
            body = render_to_string("emails/digest.txt", {"user": user, "notifications": claimed})
            send_mail(
                f"[Percolate] Your daily digest: {len(claimed)} update(s)",
                body,
                settings.DEFAULT_FROM_EMAIL,
                [user.email],
            )
            sent += 1
    return sent


def notifications_mark_read(*, user: "User", ids: list[int] | None = None) -> int:
    """Mark the user's notifications (all, or those ``ids``) read; returns how many changed. Safe to repeat."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


def notification_preference_set(*, user: "User", email_mode: str) -> NotificationPreference:
    """Choose immediate e-mails, one daily digest, or none. Safe to repeat."""
    if email_mode not in EmailMode.values:
        raise InvalidInput({"email_mode": f"Must be one of {', '.join(EmailMode.values)}."})
    preference, _ = NotificationPreference.objects.update_or_create(user=user, defaults={"email_mode": email_mode})
    return preference
