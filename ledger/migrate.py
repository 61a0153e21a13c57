"""Bringing a database's schema up to date with the Alembic migrations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration up to ``revision`` on ``engine``'s database."""
    _migrate(engine, lambda config: command.upgrade(config, revision))


def downgrade(engine: Engine, revision: str) -> None:
    """Undo the migrations after ``revision`` (a migration may refuse, saying why)."""
    _migrate(engine, lambda config: command.downgrade(config, revision))


def _migrate(engine: Engine, run: Callable[[Config], None]) -> None:
    config = alembic_config()
    with (
        engine.connect() as connection,
        _sqlite_rebuilds_allowed(connection),
        connection.begin(),
    ):
        config.attributes["connection"] = connection
        run(config)
        _check_foreign_keys(connection)


@contextmanager
def _sqlite_rebuilds_allowed(connection: Connection) -> Iterator[None]:
    """SQLite changes a column by rebuilding its table (Alembic's batch mode), which drops
    the old table; with foreign keys enforced, that is refused while other tables refer to
    it. SQLite's own procedure: turn enforcement off outside the transaction, rebuild, check
    every key before committing (``_check_foreign_keys``), turn it back on."""
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        raw.execute("PRAGMA foreign_keys = ON")


def _check_foreign_keys(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration left {len(broken)} broken foreign key(s): {broken[:5]}")


def heads() -> list[str]:
    return list(ScriptDirectory.from_config(alembic_config()).get_heads())
