"""The layers of docs/architecture.md are a contract `lint-imports` checks in `make test`;
these tests show that it fails when the contract is broken, on a copy of the tree."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ledger", "actions", "api", "notifications", "jobs")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _copy(tmp_path: Path) -> Path:
    tree = tmp_path / "tree"
    for name in PACKAGES:
        shutil.copytree(ROOT / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    return tree


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}  # the copy, not the installed tree
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _append(path: Path, line: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + f"\n{line}\n", encoding="utf-8")


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _copy(tmp_path_factory.mktemp("layers"))


def test_the_tree_as_it_is_keeps_every_contract(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_domain_importing_sqlalchemy_breaks_the_build(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    _append(tree / "ledger" / "domain.py", "import sqlalchemy  # noqa")
    result = _lint(tree)
    assert result.returncode != 0
    assert "ledger.domain -> sqlalchemy" in result.stdout


def test_a_route_reading_the_models_breaks_the_build(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    _append(tree / "api" / "routes" / "patients.py", "from ledger.models import Patient as Row")
    result = _lint(tree)
    assert result.returncode != 0
    assert "api.routes.patients -> ledger.models" in result.stdout


def test_a_service_importing_an_action_breaks_the_build(tmp_path: Path) -> None:
    tree = _copy(tmp_path)
    _append(tree / "ledger" / "services" / "earning.py", "import actions.earning  # noqa")
    result = _lint(tree)
    assert result.returncode != 0
    assert "ledger.services.earning -> actions.earning" in result.stdout
