"""The audit trail's rules: every audit verb, listed once, and the hash chain that makes a quiet change to a
stored event detectable. ``services.event_record`` appends; ``audit_chain_verify`` checks."""

import hashlib
import json
from datetime import UTC
from typing import TYPE_CHECKING

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

if TYPE_CHECKING:
    from .models import Event

GENESIS_HASH = "0" * 64


class Verb(models.TextChoices):
    FLAG_CREATED = "flag.created", "Flag raised by a person"
    FLAG_DETECTED = "flag.detected", "Case opened by the check"
    FLAG_REDETECTED = "flag.redetected", "Signals changed"
    FLAG_RECOVERED = "flag.recovered", "Signals cleared"
    FLAG_REGRESSED = "flag.regressed", "Re-raised after a decision"
    FLAG_MERGED = "flag.merged", "Merged into one case"
    FLAG_OVERDUE = "flag.overdue", "Flag overdue"
    FLAG_REVIEWED = "flag.reviewed", "Review started"
    FLAG_ASSIGNED = "flag.assigned", "Assigned"
    FLAG_SEVERITY_SET = "flag.severity_set", "Severity set"
    FLAG_MONITORED = "flag.monitored", "Monitoring"
    FLAG_RESUMED = "flag.resumed", "Review resumed"
    FLAG_DISMISSED = "flag.dismissed", "Dismissed"
    FLAG_ESCALATED = "flag.escalated", "Escalated"
    FLAG_RETURNED = "flag.returned", "Returned"
    FLAG_DELEGATED = "flag.delegated", "Delegated to agency"
    FLAG_CONVERTED = "flag.converted", "Converted to project"
    FLAG_RESOLVED = "flag.resolved", "Resolved"
    FLAG_REOPENED = "flag.reopened", "Reopened"
    FLAG_NOTED = "flag.noted", "Note added"
    PROJECT_CREATED = "project.created", "Project created"
    PROJECT_UPDATED = "project.updated", "Project updated"
    PROJECT_COMPLETED = "project.completed", "Project completed"
    PROJECT_CANCELLED = "project.cancelled", "Project cancelled"
    MILESTONE_ADDED = "project.milestone_added", "Milestone added"
    MILESTONE_DONE = "project.milestone_done", "Milestone done"
    AUDIT_CHAIN_BROKEN = "audit.chain_broken", "Audit chain broken"
    TOKEN_CREATED = "auth.token_created", "API token created"
    TOKEN_REVOKED = "auth.token_revoked", "API token revoked"
    PASSWORD_CHANGED = "auth.password_changed", "Password changed"


def json_safe(data: dict) -> dict:
    """``data`` as it will read back from the JSON column (decimals and dates become strings), so the hash
    computed before the insert equals the hash recomputed from the stored row."""
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def event_hash(event) -> str:
    """SHA-256 over the previous event's hash and this event's canonical content."""
    content = {
        "prev_hash": event.prev_hash,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "verb": event.verb,
        "flag_id": event.flag_id,
        "project_id": event.project_id,
        "indicator_id": event.indicator_id,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "data": event.data,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def audit_chain_verify(batch_size: int = 5000) -> "tuple[Event, str] | None":
    """Walk the chain in id order. Returns ``None`` when it holds, else ``(event, problem)`` for the first
    event that does not match."""
    from .models import Event

    expected_prev = GENESIS_HASH
    for event in Event.objects.order_by("id").iterator(chunk_size=batch_size):
        if event.prev_hash != expected_prev:
            return event, "its previous-hash does not match the event before it (an event was removed or inserted)"
        if event_hash(event) != event.hash:
            return event, "its content does not match its hash (the event was altered)"
        expected_prev = event.hash
    return None


def verb_label(verb: str) -> str:
    return Verb(verb).label if verb in Verb.values else verb
