"""Every write of the indicators app: importing files (``imports``; large ones in the background,
``import_uploads``), granting and revoking roles and scope (``roles``), and configuration — reference data,
threshold rules, an indicator's tolerance and definition (``configuration``). Each writes one audit event through
``core.audit.record_change`` (a background import's, when its file is applied)."""

from .configuration import agency_save, indicator_tune, indicator_update, portfolio_save, rule_delete, rule_save
from .import_uploads import ImportUploadConflict, import_upload_queue, import_upload_run, import_uploads_sweep
from .imports import ImportConflict, ImportOutcome, ImportRejected, import_file
from .roles import role_grant, role_revoke

__all__ = [
    "ImportConflict",
    "ImportOutcome",
    "ImportRejected",
    "ImportUploadConflict",
    "agency_save",
    "import_file",
    "import_upload_queue",
    "import_upload_run",
    "import_uploads_sweep",
    "indicator_tune",
    "indicator_update",
    "portfolio_save",
    "role_grant",
    "role_revoke",
    "rule_delete",
    "rule_save",
]
