"""Every write of the indicators app: importing files (``imports``), granting and revoking roles and scope
(``roles``), and configuration — reference data, threshold rules, an indicator's tolerance and definition
(``configuration``). Each writes one audit event through ``core.audit.record_change``."""

from .configuration import agency_save, indicator_tune, indicator_update, portfolio_save, rule_delete, rule_save
from .imports import ImportConflict, ImportOutcome, ImportRejected, import_file
from .roles import role_grant, role_revoke

__all__ = [
    "ImportConflict",
    "ImportOutcome",
    "ImportRejected",
    "agency_save",
    "import_file",
    "indicator_tune",
    "indicator_update",
    "portfolio_save",
    "role_grant",
    "role_revoke",
    "rule_delete",
    "rule_save",
]
