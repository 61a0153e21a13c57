"""A SQLite database file is its owner's alone, and a commit is on disk when acknowledged."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from ledger.db import make_engine, make_reader_factory, make_session_factory, session_scope
from ledger.migrate import upgrade


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems start with (022): files would be created 0644."""
    previous = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(previous)


@pytest.fixture
def new_database(tmp_path: Path, usual_umask: None) -> Iterator[tuple[Path, Engine]]:
    path = tmp_path / "var" / "mileage.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    try:
        yield path, engine
    finally:
        engine.dispose()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_database_and_its_wal_and_shm_files_are_readable_by_their_owner_only(
    new_database: tuple[Path, Engine],
) -> None:
    path, engine = new_database
    upgrade(engine)
    with engine.connect() as connection:  # WAL: the -wal and -shm files exist while open
        connection.execute(text("SELECT count(*) FROM districts"))
        files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: oct(mode(f)) for f in files} == {f.name: "0o600" for f in files}
    assert oct(mode(path.parent)) == "0o700"


def test_an_existing_database_file_keeps_its_mode(tmp_path: Path, usual_umask: None) -> None:
    path = tmp_path / "shared.sqlite3"
    path.touch(mode=0o640)
    engine = make_engine(f"sqlite:///{path}")
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    assert oct(mode(path)) == "0o640"


def test_every_commit_is_synced_to_disk(new_database: tuple[Path, Engine]) -> None:
    _, engine = new_database
    upgrade(engine)
    full = 2  # PRAGMA synchronous: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA
    with session_scope(make_session_factory(engine)) as writer:
        assert writer.execute(text("PRAGMA synchronous")).scalar_one() == full
    with make_reader_factory(engine)() as reader:
        assert reader.execute(text("PRAGMA synchronous")).scalar_one() == full
