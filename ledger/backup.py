"""Backups: a consistent copy of the live database, taken while it serves, and its restore
into an empty database.

- **SQLite**: the online backup API (``sqlite3.Connection.backup``) copies every page in one
  step, inside one read transaction: a snapshot of one moment, taken while writers carry on
  (the database is in WAL mode, where a reader blocks no writer). The copy is checked
  (``PRAGMA quick_check``) and left as one self-contained file (``journal_mode=DELETE``).
- **PostgreSQL**: ``pg_dump --format=custom``, which reads everything in one snapshot; the
  dump is checked by listing it (``pg_restore --list``). ``pg_restore --single-transaction``
  loads it all or nothing, owned by the restoring user. The programs are taken from
  ``pg_config --bindir``, else from PATH; pg_dump must be at least the server's version.

A backup is written to ``FILE.partial``, readable by its owner only (it holds personal
data), and renamed to FILE once complete and checked: a file named FILE is a whole backup.
An existing FILE is never overwritten. A restore refuses a database that has any table.
The caller brings the restored schema up to date and verifies the ledger
(``actions.backups``).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from ledger.db import make_engine, normalise_url
from ledger.errors import BackupFailed

__all__ = ["Backup", "back_up", "backup_engine", "restore"]

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
# pg_restore --list, pg_dump and pg_restore of a service-sized database take seconds; a hung
# connection should not hang the command for ever.
PG_TIMEOUT_S = 6 * 3600


@dataclass(frozen=True)
class Backup:
    path: Path
    engine: str  # "sqlite" or "postgresql"
    size: int


def back_up(database_url: str, target: Path) -> Backup:
    """Copy the database at ``database_url`` to ``target``, consistently, while it serves."""
    url = make_url(normalise_url(database_url))
    if target.exists():
        raise BackupFailed(f"{target} exists; back up to a new file (one named by the date)")
    partial = target.with_name(f"{target.name}.partial")
    with _private_file(partial):
        if url.get_backend_name() == "sqlite":
            _sqlite_backup(_sqlite_path(url), partial)
        else:
            _pg_dump(url, partial)
        os.replace(partial, target)
    return Backup(target, url.get_backend_name(), target.stat().st_size)


def backup_engine(source: Path) -> str:
    """Which engine a backup file is of, by its first bytes."""
    with source.open("rb") as file:
        head = file.read(len(SQLITE_MAGIC))
    if head.startswith(SQLITE_MAGIC):
        return "sqlite"
    if head.startswith(PG_DUMP_MAGIC):
        return "postgresql"
    raise BackupFailed(f"{source} is neither a SQLite backup nor a pg_dump custom-format file")


def restore(database_url: str, source: Path) -> None:
    """Load the backup ``source`` into the empty database at ``database_url``."""
    url = make_url(normalise_url(database_url))
    kind, backend = backup_engine(source), url.get_backend_name()
    if kind != backend:
        raise BackupFailed(
            f"{source} is a {kind} backup and the database is {backend}: restore it into a "
            f"{kind} database (MILEAGE_DATABASE_URL)"
        )
    if backend == "sqlite":
        _sqlite_restore(source, _sqlite_path(url))
    else:
        _pg_restore(source, url)


# SQLite -------------------------------------------------------------------------------


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupFailed("an in-memory SQLite database has no file to back up or restore")
    return Path(url.database)


def _sqlite_backup(database: Path, partial: Path) -> None:
    if not database.exists():
        raise BackupFailed(f"there is no database at {database}")
    source = sqlite3.connect(database, timeout=30)
    copy = sqlite3.connect(partial)
    with closing(source), closing(copy):
        source.backup(copy)  # every page in one step: one snapshot
        copy.execute("PRAGMA journal_mode = DELETE")
        checked = copy.execute("PRAGMA quick_check").fetchone()[0]
    if checked != "ok":
        raise BackupFailed(f"the copy failed its integrity check: {checked}")


def _sqlite_restore(source: Path, database: Path) -> None:
    if database.exists():
        with closing(sqlite3.connect(database)) as existing:
            tables = existing.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
        if tables:
            raise BackupFailed(_not_empty(str(database)))
    else:
        database.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, 0o600))
    backup = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    target = sqlite3.connect(database)
    with closing(backup), closing(target):
        checked = backup.execute("PRAGMA quick_check").fetchone()[0]
        if checked != "ok":
            raise BackupFailed(f"{source} fails its integrity check: {checked}")
        backup.backup(target)


# PostgreSQL ---------------------------------------------------------------------------


def _pg_dump(url: URL, partial: Path) -> None:
    conninfo, env = _libpq(url)
    _run([_pg_tool("pg_dump"), "--format=custom", "--file", str(partial), conninfo], env)
    _run([_pg_tool("pg_restore"), "--list", str(partial)], env)  # a dump it can read back


def _pg_restore(source: Path, url: URL) -> None:
    engine = make_engine(url.render_as_string(hide_password=False))
    try:
        with engine.connect() as connection:
            tables = connection.execute(
                text(
                    "SELECT count(*) FROM pg_catalog.pg_tables"
                    " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
                )
            ).scalar()
    except SQLAlchemyError as error:
        raise BackupFailed(
            f"cannot reach the database {url.database!r} ({type(error).__name__}): create it "
            "empty first (createdb), then restore into it"
        ) from error
    finally:
        engine.dispose()
    if tables:
        raise BackupFailed(_not_empty(str(url.database)))
    conninfo, env = _libpq(url)
    command = [_pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error"]
    _run([*command, "--single-transaction", "--dbname", conninfo, str(source)], env)


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A libpq connection URI without the password (which would show in the process list),
    and the environment that carries it."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _pg_tool(name: str) -> str:
    """PostgreSQL's ``name`` program: beside ``pg_config --bindir``, else on PATH."""
    try:
        found = subprocess.run(
            ["pg_config", "--bindir"], check=True, capture_output=True, text=True, timeout=30
        )
        candidate = Path(found.stdout.strip()) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    except (OSError, subprocess.SubprocessError):
        pass
    on_path = shutil.which(name)
    if on_path is None:
        raise BackupFailed(
            f"{name} is not installed (looked beside `pg_config --bindir` and on PATH): "
            "install PostgreSQL's client programs, as new as the server"
        )
    return on_path


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=PG_TIMEOUT_S, check=False
        )
    except (OSError, subprocess.SubprocessError) as error:
        raise BackupFailed(f"{Path(command[0]).name} could not run: {error}") from error
    if done.returncode != 0:
        said = (done.stderr or done.stdout).strip().splitlines()
        raise BackupFailed(f"{Path(command[0]).name} failed: {said[-1] if said else 'no output'}")


# Both ---------------------------------------------------------------------------------


@contextmanager
def _private_file(path: Path) -> Iterator[None]:
    """Create ``path`` readable by its owner only; remove it if the block fails."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError as error:
        raise BackupFailed(
            f"{path} is left from a backup that did not finish; remove it and back up again"
        ) from error
    try:
        yield
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _not_empty(name: str) -> str:
    return (
        f"the database {name} is not empty; restore into a new, empty database (do not start "
        "the service on it or upgrade it first)"
    )
