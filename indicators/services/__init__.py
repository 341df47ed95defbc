"""Every write of the indicators app: importing files (``imports``), granting roles and scope (``roles``),
and configuration — reference data, threshold rules, an indicator's tolerance (``configuration``)."""

from .configuration import agency_save, indicator_tune, portfolio_save, rule_save
from .imports import ImportOutcome, ImportRejected, import_file
from .roles import role_grant

__all__ = [
    "ImportOutcome",
    "ImportRejected",
    "agency_save",
    "import_file",
    "indicator_tune",
    "portfolio_save",
    "role_grant",
    "rule_save",
]
