"""What every app shares: who may do what (``permissions``), how a refused change is reported (``errors``) and
how a list leaves as CSV (``csv``). ``core`` imports neither ``indicators`` nor ``escalations``."""
