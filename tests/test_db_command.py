"""`mileage db upgrade`, as the README's import steps run it, brings an empty file up to date."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from api.cli import main
from ledger.db import make_engine
from ledger.settings import get_settings


@pytest.fixture
def fresh_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "new.sqlite3"
    monkeypatch.setenv("MILEAGE_DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    yield path
    get_settings.cache_clear()


def test_db_upgrade_creates_the_schema_and_a_second_run_changes_nothing(fresh_file: Path) -> None:
    first = CliRunner().invoke(main, ["db", "upgrade"])
    assert first.exit_code == 0, first.output
    assert "up to date" in first.output
    engine = make_engine(f"sqlite:///{fresh_file}")
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"transactions", "entries", "patients", "audit_events"} <= tables
    again = CliRunner().invoke(main, ["db", "upgrade"])
    assert again.exit_code == 0, again.output
