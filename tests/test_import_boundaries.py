"""Only the composition root knows adapters: the contracts in .importlinter, run as a test so a
plain `pytest` enforces them too (`make lint` runs `lint-imports` itself)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(package_parent: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Runs the contracts on the installed catalog, or on the copy under `package_parent`."""
    env = dict(os.environ)
    if package_parent is not None:
        env["PYTHONPATH"] = str(package_parent)
    return subprocess.run(
        [str(LINT_IMPORTS), str(ROOT / ".importlinter"), "--no-cache"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_contracts_hold() -> None:
    done = lint_imports()
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("module", "line"),
    [
        ("entrypoints/api/auth.py", "import catalog.adapters.token_claims"),
        ("entrypoints/api/routers/assets.py", "import catalog.bootstrap"),
        ("entrypoints/cli/events.py", "import catalog.adapters.embedded.event_log"),
    ],
)
def test_an_adapter_import_breaks_a_contract(tmp_path: Path, module: str, line: str) -> None:
    copy = tmp_path / "catalog"
    shutil.copytree(ROOT / "src" / "catalog", copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / module
    target.write_text(target.read_text("utf-8") + f"\n{line}\n", "utf-8")
    done = lint_imports(tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "BROKEN" in done.stdout
