"""The adapters are a separate package: they talk to the catalog over HTTP and events only."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
SCANNED = [PACKAGE_ROOT / "src", PACKAGE_ROOT / "tests", PACKAGE_ROOT.parent / "demo"]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_nothing_imports_the_catalog():
    files = [f for folder in SCANNED if folder.exists() for f in folder.rglob("*.py")]
    assert len(files) > 10
    offenders = {
        str(f.relative_to(PACKAGE_ROOT.parent)): sorted(
            m for m in imported_modules(f) if m == "catalog" or m.startswith("catalog.")
        )
        for f in files
    }
    assert {f: m for f, m in offenders.items() if m} == {}
