"""Every write of the indicators app: importing files (``imports``) and granting roles and scope
(``roles``). Import from here: ``from indicators.services import import_file, ImportRejected, role_grant``."""

from .imports import ImportOutcome, ImportRejected, import_file
from .roles import role_grant

__all__ = ["ImportOutcome", "ImportRejected", "import_file", "role_grant"]
