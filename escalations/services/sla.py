"""Keeping the process moving: overdue flags, the chain to the ops leads, and monitoring that ends."""

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from core.errors import DomainError, InvalidInput
from core.permissions import Capability, require

from .. import deadlines
from ..audit_trail import Verb
from ..lifecycle import OPEN_STATUSES, FlagStatus
from ..models import Closure, Event, Flag, Notification, SlaPolicy
from .events import event_record
from .flags import flag_resume
from .notifications import notify_later

if TYPE_CHECKING:
    from django.contrib.auth.models import User

SYSTEM = "SLA check"


def flags_mark_overdue(*, now: dt.datetime | None = None) -> int:
    """Mark every open flag whose step is past due and not yet marked: sets ``overdue_at`` and writes one
    ``flag.overdue`` event per flag (system actor); whoever holds the step is notified after commit. A flag
    is marked once per step (a status change starts a new clock). Safe to repeat and to run concurrently:
    the UPDATE only succeeds while ``overdue_at`` is still empty. Returns the number marked."""
    now = now or timezone.now()
    marked = 0
    candidates = Flag.objects.filter(status__in=OPEN_STATUSES, due_at__lt=now, overdue_at__isnull=True)
    for flag_id in candidates.values_list("pk", flat=True):
        with transaction.atomic():
            # The conditional UPDATE is the claim: two concurrent runs cannot both mark the same flag.
            if not Flag.objects.filter(pk=flag_id, overdue_at__isnull=True, due_at__lt=now).update(overdue_at=now):
                continue
            flag = Flag.objects.select_related("indicator").get(pk=flag_id)
            event = event_record(
                verb=Verb.FLAG_OVERDUE,
                actor_label=SYSTEM,
                flag=flag,
                from_status=flag.status,
                to_status=flag.status,
                data={"due_at": flag.due_at, "status": flag.status},
            )
            notify_later(event)
            marked += 1
    return marked


def flags_overdue_untouched(*, now: dt.datetime | None = None) -> list[Event]:
    """The ``flag.overdue`` events of flags still overdue past the grace period with no action by a person
    since they became overdue: the ops leads should hear of these."""
    now = now or timezone.now()
    grace = SlaPolicy.current().lead_grace_days
    acted = Event.objects.filter(flag=OuterRef("pk"), actor__isnull=False, occurred_at__gte=OuterRef("overdue_at"))
    flags = Flag.objects.filter(status__in=OPEN_STATUSES, overdue_at__isnull=False).exclude(Exists(acted))
    return [
        Event.objects.filter(flag=flag, verb=Verb.FLAG_OVERDUE).latest("id")
        for flag in flags
        if flag.overdue_at is not None and deadlines.add_business_days(flag.overdue_at, grace) <= now
    ]


def flags_escalate_overdue_to_leads(*, now: dt.datetime | None = None) -> int:
    """Tell the ops leads about flags overdue past the grace period that nobody has touched. Each (lead,
    overdue event) is notified once, however often this runs. Returns the number of events escalated."""
    from .notifications import OVERDUE_LEAD, notifications_create

    events = [
        event
        for event in flags_overdue_untouched(now=now)
        if not Notification.objects.filter(event=event, reason=OVERDUE_LEAD).exists()
    ]
    for event in events:
        notifications_create(event_id=event.pk, reason=OVERDUE_LEAD)
    return len(events)


def flags_resume_due_monitoring(*, today: dt.date | None = None) -> int:
    """Resume review of every monitored flag whose ``monitor_until`` has come (``flag.resumed``, system
    actor). Safe to repeat: a flag no longer monitoring is skipped. Returns the number resumed."""
    today = today or timezone.localdate()
    resumed = 0
    for flag in Flag.objects.filter(status=FlagStatus.MONITORING, monitor_until__lte=today).select_related("indicator"):
        try:
            flag_resume(flag=flag, system="monitoring ended", reason=f"monitoring until {flag.monitor_until} ended")
        except DomainError:
            continue  # somebody acted on it meanwhile
        resumed += 1
    return resumed


def sla_policy_update(*, actor: "User", **values: Any) -> SlaPolicy:
    """Change the SLA policy (ops leads and admins): one ``sla.policy_updated`` event with old and new values.
    Deadlines already set keep their date; new ones follow the new policy. Safe to repeat: the same values
    again write nothing."""
    require(actor, Capability.CONFIGURE)
    unknown = set(values) - {"review_days_red", "review_days_yellow", "decision_days", "lead_grace_days"}
    if unknown:
        raise InvalidInput(dict.fromkeys(sorted(unknown), "This field cannot be changed."))
    bad = {name: "Must be a whole number from 0 to 60." for name, v in values.items() if not (0 <= int(v) <= 60)}
    if bad:
        raise InvalidInput(bad)
    with transaction.atomic():
        policy = SlaPolicy.objects.select_for_update().order_by("pk").first() or SlaPolicy()
        changes = {
            name: {"old": getattr(policy, name), "new": int(value)}
            for name, value in values.items()
            if getattr(policy, name) != int(value)
        }
        if not changes:
            return policy
        for name, value in values.items():
            setattr(policy, name, int(value))
        policy.save()
        event_record(verb=Verb.SLA_POLICY_UPDATED, actor=actor, data={"changes": changes})
    return policy


def closure_save(*, actor: "User", date: dt.date, name: str, closure: Closure | None = None) -> Closure:
    """Add a local closure (a snow day, a holiday: not a business day for deadlines set from now on) or change
    one (ops leads and admins): one ``closure.saved`` event with old and new values; the same values again
    write nothing. Refused (400) for a blank name or a date that already has a closure."""
    require(actor, Capability.CONFIGURE)
    name = name.strip()
    if not name:
        raise InvalidInput({"name": "Name the closure."})
    with transaction.atomic():
        others = Closure.objects.filter(date=date)
        if (others.exclude(pk=closure.pk) if closure is not None else others).exists():
            raise InvalidInput({"date": f"{date:%Y-%m-%d} is already a closure."})
        # As stored (the admin hands over an instance that already holds the entered values).
        stored = Closure.objects.select_for_update().get(pk=closure.pk) if closure is not None else None
        old = {"date": stored.date, "name": stored.name} if stored is not None else {"date": None, "name": None}
        closure = closure or Closure()
        changes = {
            field: {"old": _text(old[field]), "new": _text(new)}
            for field, new in (("date", date), ("name", name))
            if old[field] != new
        }
        if not changes:
            return closure
        closure.date, closure.name = date, name
        closure.save()
        event_record(verb=Verb.CLOSURE_SAVED, actor=actor, data={"closure": closure.pk, "changes": changes})
    return closure


def closure_delete(*, actor: "User", closure: Closure) -> None:
    """Remove a closure (ops leads and admins): one ``closure.deleted`` event naming it."""
    require(actor, Capability.CONFIGURE)
    with transaction.atomic():
        data = {"closure": closure.pk, "date": _text(closure.date), "name": closure.name}
        closure.delete()
        event_record(verb=Verb.CLOSURE_DELETED, actor=actor, data=data)


def _text(value: object) -> str | None:
    return None if value is None else value.isoformat() if isinstance(value, dt.date) else str(value)
