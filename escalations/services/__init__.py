"""Every write of the escalations app. Views, the API, admin actions, Celery tasks and management commands
call these functions; nothing else changes a flag's status or writes an audit event."""

from .accounts import password_change, token_create, token_revoke, tokens_revoke_all
from .bulk_actions import BULK_LIMIT, BulkOutcome, flags_bulk_act
from .events import event_record
from .flags import (
    ACTION_SERVICES,
    flag_add_note,
    flag_assign,
    flag_convert,
    flag_delegate,
    flag_dismiss,
    flag_escalate,
    flag_monitor,
    flag_raise,
    flag_reopen,
    flag_resolve,
    flag_resume,
    flag_return,
    flag_review,
    flag_set_severity,
)
from .indicators import indicator_merge
from .projects import (
    milestone_add,
    milestone_complete,
    milestone_update,
    project_act,
    project_create,
    project_update,
)
from .sla import closure_delete, closure_save, sla_policy_update

__all__ = [
    "ACTION_SERVICES",
    "BULK_LIMIT",
    "BulkOutcome",
    "closure_delete",
    "closure_save",
    "event_record",
    "flag_add_note",
    "flag_assign",
    "flag_convert",
    "flag_delegate",
    "flag_dismiss",
    "flag_escalate",
    "flag_monitor",
    "flag_raise",
    "flag_reopen",
    "flag_resolve",
    "flag_resume",
    "flag_return",
    "flag_review",
    "flag_set_severity",
    "flags_bulk_act",
    "indicator_merge",
    "milestone_add",
    "milestone_complete",
    "milestone_update",
    "password_change",
    "project_act",
    "project_create",
    "project_update",
    "sla_policy_update",
    "token_create",
    "token_revoke",
    "tokens_revoke_all",
]
