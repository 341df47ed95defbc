"""Watching the audit trail itself."""

from django.db import transaction

from ..audit import Verb, audit_chain_verify
from ..models import Event
from .events import event_record
from .notify import notify_after_commit


def audit_chain_check() -> Event | None:
    """Recompute the hash chain. When it is broken, record one ``audit.chain_broken`` alert (system actor)
    naming the first bad event and notify the admins after commit; the same break is reported once, however
    often this runs. Returns the alert event, or ``None`` when the chain holds or the break was reported."""
    broken = audit_chain_verify()
    if broken is None:
        return None
    bad, problem = broken
    if Event.objects.filter(verb=Verb.AUDIT_CHAIN_BROKEN, data__event=bad.pk).exists():
        return None
    with transaction.atomic():
        alert = event_record(
            verb=Verb.AUDIT_CHAIN_BROKEN,
            actor_label="audit check",
            data={"event": bad.pk, "verb": bad.verb, "problem": problem},
        )
        notify_after_commit(alert)
    return alert
