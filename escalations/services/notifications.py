"""Telling the right people, once.

Who hears what (``recipients_of``): a new red flag → the agency's liaisons; an escalation → the portfolio's
deputy mayor's office, or the ops leads when the agency has no portfolio (no deputy mayor would hear of it,
and an ops lead may still make it a project), told so in the notification; a decision or return → the
liaison who escalated; a project created or completed → its owner and the liaisons who escalated its flags;
an overdue flag → whoever holds the step (and, after a grace period with nobody acting, the ops leads). The
person who acted is never told of their own action.

Exactly once: a ``Notification`` row is unique per (user, event, reason), so creating them again adds nothing;
each notification owes at most one e-mail (an outbox row keyed by the notification), sent by the dispatcher,
whose claim of ``emailed_at`` commits only once the mail backend accepted the message.

Scheduling (``notify_later``): the notifications of an event are an outbox message written in the event's own
transaction (``services.outbox``), so a rolled-back change tells nobody anything and a committed one tells its
audience even if the broker was down at the time."""

import unicodedata
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import EmptyResultSet
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Q, QuerySet
from django.template.loader import render_to_string
from django.utils import timezone

from core.errors import InvalidInput
from core.permissions import Role, holders

from ..audit_trail import Verb, verb_label
from ..lifecycle import FlagStatus, Severity
from ..models import (
    EmailMode,
    Escalation,
    Event,
    Flag,
    Notification,
    NotificationPreference,
    OutboxKind,
    OutboxMessage,
    Project,
)
from .outbox import outbox_put, outbox_put_many

if TYPE_CHECKING:
    from django.contrib.auth.models import User
else:
    User = get_user_model()

NEW_FLAG_VERBS = {Verb.FLAG_DETECTED, Verb.FLAG_CREATED, Verb.FLAG_REGRESSED}
DECISION_VERBS = {Verb.FLAG_RETURNED, Verb.FLAG_DELEGATED, Verb.FLAG_CONVERTED}
PROJECT_VERBS = {Verb.PROJECT_CREATED, Verb.PROJECT_COMPLETED}
OVERDUE_LEAD = "overdue_lead"
# A project given to someone (created, converted from a case or changed to name them its owner): the owner
# hears of it under this reason, with its own title, beside whoever hears of the event itself.
PROJECT_OWNER = "project_owner"


SUBJECT_LENGTH = 200


def notify_later(event: Event) -> None:
    """Owe the notifications of ``event``: an outbox message in the caller's transaction (see the module)."""
    notify_later_many([event.pk])


def notify_later_many(event_ids: list[int], reason: str = "event") -> None:
    """Owe the notifications of many events (a detection shard's new red flags): one outbox message."""
    if event_ids:
        outbox_put(OutboxKind.NOTIFY, {"events": event_ids, "reason": reason})


def notify_owner_later(event: Event) -> None:
    """Owe the new owner of ``event``'s project a notification that the project is now theirs (in the caller's
    transaction, as ``notify_later``)."""
    notify_later_many([event.pk], reason=PROJECT_OWNER)


def email_subject(text: str) -> str:
    """The subject of every e-mail Percolate sends, built here only: line breaks and other control or format
    characters become spaces (a header with a newline is refused, ``BadHeaderError``, and an indicator's name
    may carry one), runs of spaces collapse, and the whole is cut to ``SUBJECT_LENGTH`` characters."""
    spaced = "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in text)
    subject = "[Percolate] " + " ".join(spaced.split())
    return subject if len(subject) <= SUBJECT_LENGTH else subject[: SUBJECT_LENGTH - 1].rstrip() + "…"


def _with_role(users: "QuerySet[User]", role: str) -> "QuerySet[User]":
    return users.filter(holders(role))


def _escalators(flags: Iterable[Flag]) -> "QuerySet[User]":
    return User.objects.filter(pk__in=Escalation.objects.filter(flag__in=flags).values("escalated_by"))


def _escalation_audience(flag: Flag) -> "QuerySet[User]":
    """Who decides an escalated case: the deputy mayor's office of its agency's portfolio; the ops leads when
    the agency has none (nobody else would hear of it)."""
    portfolio = flag.indicator.agency.portfolio
    if portfolio is None:
        return _with_role(User.objects.all(), Role.OPS_LEAD)
    return _with_role(portfolio.members.all(), Role.DEPUTY_MAYOR)


def _without_deputy_mayor(event: Event) -> bool:
    """Whether ``event`` escalated a case of an agency without a portfolio: no deputy mayor's office hears of
    it, the ops leads do, and the notification says why."""
    flag = event.flag
    return event.verb == Verb.FLAG_ESCALATED and flag is not None and flag.indicator.agency.portfolio_id is None


def _overdue_audience(flag: Flag) -> "QuerySet[User]":
    """Whoever holds the overdue step: who decides an escalated case (``_escalation_audience``), else its
    assignee, else the liaisons of its agency."""
    if flag.status == FlagStatus.ESCALATED:
        return _escalation_audience(flag)
    if flag.assignee_id:
        return User.objects.filter(pk=flag.assignee_id)
    return _with_role(flag.indicator.agency.liaisons.all(), Role.LIAISON)


def _project_audience(event: Event, project: Project) -> "QuerySet[User]":
    """A project created or completed: the liaisons who escalated its flags, and (completed) its owner — told
    of a new project as theirs under ``PROJECT_OWNER``, not twice."""
    escalators = _escalators(project.flags.all())
    if event.verb == Verb.PROJECT_CREATED:
        return escalators
    # Without an owner, pk=None is Django's "IS NULL": nobody. The plugin's lookup types leave None out.
    return User.objects.filter(pk=project.owner_id) | escalators  # type: ignore[misc]


def _owner_given(event: Event) -> str | None:
    """The username of the owner ``event`` gave its project to (created or converted with an owner, or changed
    to one), else ``None``."""
    data = event.data or {}
    owner = data.get("changes", {}).get("owner", {}).get("new") if "changes" in data else data.get("owner")
    return owner if isinstance(owner, str) else None


def _audience(event: Event, reason: str) -> "QuerySet[User]":
    flag = event.flag
    if reason == OVERDUE_LEAD:
        return _with_role(User.objects.all(), Role.OPS_LEAD)
    if reason == PROJECT_OWNER:
        # The owner the event named, not the project's owner when the dispatcher runs: given to one person,
        # then to another, each hears of their own turn only.
        owner = _owner_given(event)
        return User.objects.filter(username=owner) if owner else User.objects.none()
    if event.verb == Verb.AUDIT_CHAIN_BROKEN:
        return _with_role(User.objects.all(), Role.ADMIN)
    if event.verb in PROJECT_VERBS and event.project is not None:
        return _project_audience(event, event.project)
    if flag is None:
        return User.objects.none()
    if event.verb in NEW_FLAG_VERBS and flag.severity == Severity.RED:
        return _with_role(flag.indicator.agency.liaisons.all(), Role.LIAISON)
    if event.verb == Verb.FLAG_ESCALATED:
        return _escalation_audience(flag)
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
    if reason == PROJECT_OWNER and event.project is not None:
        return f"A project is yours to run: {event.project.title}"[:300]
    if reason != OVERDUE_LEAD and _without_deputy_mayor(event):
        subject = "Escalated with no deputy mayor to decide"
    if event.flag is not None:
        subject += f": {event.flag.indicator.name}"
    elif event.project is not None:
        subject += f": {event.project.title}"
    return subject[:300]


def notifications_create(*, event_id: int, reason: str = "event") -> list[Notification]:
    """Create the notifications of one event (safe to repeat: existing ones are kept, none added twice) and, in
    the same transaction, owe an e-mail to each recipient who wants immediate e-mails and has not had it (the
    outbox's dispatcher sends them). Returns the notifications of the event for ``reason``."""
    return notifications_create_many(event_ids=[event_id], reason=reason)


def notifications_create_many(*, event_ids: list[int], reason: str = "event") -> list[Notification]:
    """``notifications_create`` for many events at once (a detection shard's new red flags) in a few queries:
    the events are read together, and events whose recipients the same query finds (the same agency's
    liaisons, say) share one lookup. Returns the notifications of the events for ``reason``."""
    with transaction.atomic():
        return _create_many(event_ids, reason)


def _create_many(event_ids: list[int], reason: str) -> list[Notification]:
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
        body = render_to_string(
            "emails/notification.txt",
            {"event": event, "title": title, "reason": reason, "without_deputy_mayor": _without_deputy_mayor(event)},
        )
        url = (
            f"/flags/{event.flag_id}/"
            if event.flag_id and reason != PROJECT_OWNER
            else (f"/projects/{event.project_id}/" if event.project_id else "")
        )
        new += [Notification(user=user, event=event, reason=reason, title=title, body=body, url=url) for user in users]
    Notification.objects.bulk_create(new, ignore_conflicts=True)
    notifications = list(
        Notification.objects.filter(event_id__in=event_ids, reason=reason).select_related(
            "user__notification_preference"
        )
    )
    emails_owed([n for n in notifications if _email_mode(n.user) == EmailMode.IMMEDIATE])
    return notifications


def _email_mode(user: "User") -> str:
    preference = getattr(user, "notification_preference", None)
    return preference.email_mode if preference is not None else EmailMode.IMMEDIATE


def _claim(notification: Notification) -> bool:
    """Whether this transaction won the right to e-mail ``notification`` (exactly one ever does, and a rollback
    — the backend refused the message — gives the right back)."""
    return (
        Notification.objects.filter(pk=notification.pk, emailed_at__isnull=True).update(emailed_at=timezone.now()) == 1
    )


def emails_owed(notifications: list[Notification]) -> None:
    """Owe one e-mail for each notification not yet e-mailed whose recipient has an address: one outbox row
    per notification (keyed, so owing it twice writes nothing), sent and retried alone."""
    owed = [n.pk for n in notifications if n.emailed_at is None and n.user.email]
    outbox_put_many(OutboxKind.EMAIL, [{"notification": pk} for pk in owed], keys=[f"email:{pk}" for pk in owed])


def notification_email_send(*, notification_id: int) -> bool:
    """Send the e-mail of one notification unless it was sent already (by this or by a digest); the outbox
    dispatcher calls it in a transaction that commits the claim only after the backend accepted the message,
    so a refused message raises and stays unsent. Returns whether this call sent it."""
    notification = Notification.objects.select_related("user").filter(pk=notification_id).first()
    if notification is None or not notification.user.email or not _claim(notification):
        return False
    send_mail(
        email_subject(notification.title),
        notification.body,
        settings.DEFAULT_FROM_EMAIL,
        [notification.user.email],
    )
    return True


def digests_send() -> int:
    """Owe one digest e-mail to each digest user with notifications not yet e-mailed: one outbox row per user
    and day (a second run the same day writes nothing). Returns the number of digests newly owed."""
    users = (
        _digestible(Notification.objects.filter(emailed_at__isnull=True))
        .exclude(user__email="")
        .values_list("user_id", flat=True)
        .distinct()
    )
    today = timezone.localdate().isoformat()
    keys = {user_id: f"digest:{user_id}:{today}" for user_id in users}
    with transaction.atomic():
        known = set(OutboxMessage.objects.filter(key__in=keys.values()).values_list("key", flat=True))
        new = [user_id for user_id, key in keys.items() if key not in known]
        outbox_put_many(OutboxKind.DIGEST, [{"user": user_id} for user_id in new], keys=[keys[u] for u in new])
    return len(new)


def _digestible(notifications: QuerySet[Notification]) -> QuerySet[Notification]:
    """The notifications a digest tells of: all of a digest user's; only those of red cases for a user who
    chose the red-only digest (the others stay in the app, never e-mailed)."""
    mode = "user__notification_preference__email_mode"
    red = Q(**{mode: EmailMode.DIGEST_RED}, event__flag__severity=Severity.RED)
    return notifications.filter(Q(**{mode: EmailMode.DIGEST}) | red)


def digest_send(*, user_id: int) -> bool:
    """One e-mail to ``user_id`` with every notification of theirs not yet e-mailed (of red cases only for the
    red-only digest), each claimed first (a notification is in one e-mail only); the dispatcher commits the
    claims only once the backend accepted the message. Returns whether an e-mail was sent."""
    user = User.objects.get(pk=user_id)
    pending = Notification.objects.filter(user=user, emailed_at__isnull=True).order_by("created_at")
    if _email_mode(user) == EmailMode.DIGEST_RED:
        pending = pending.filter(event__flag__severity=Severity.RED)
    claimed = [n for n in pending if _claim(n)]
    if not claimed or not user.email:
        return False
    body = render_to_string("emails/digest.txt", {"user": user, "notifications": claimed})
    send_mail(
        email_subject(f"Your daily digest: {len(claimed)} update(s)"),
        body,
        settings.DEFAULT_FROM_EMAIL,
        [user.email],
    )
    return True


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
