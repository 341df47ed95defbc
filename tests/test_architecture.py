"""The imports point one way (ARCHITECTURE.md): escalations → indicators → core. ``indicators`` never imports
``escalations`` (its changes reach the audit trail through ``core.audit``), and ``core`` imports neither."""

import ast
from pathlib import Path

import pytest
from django.conf import settings

FORBIDDEN = {"core": {"indicators", "escalations"}, "indicators": {"escalations"}}


def _imports(path: Path) -> set[str]:
    """The top-level packages a module imports (relative imports stay inside its app)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("app", sorted(FORBIDDEN))
def test_imports_point_one_way(app):
    root = Path(settings.BASE_DIR) / app
    wrong = {
        str(path.relative_to(root.parent)): sorted(_imports(path) & FORBIDDEN[app])
        for path in root.rglob("*.py")
        if _imports(path) & FORBIDDEN[app]
    }
    assert wrong == {}
