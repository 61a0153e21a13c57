"""Backing up the database while it serves, and restoring a backup into an empty one.

A backup reads every patient's personal data, so it is audited like a read: once the copy is
whole, in the live database. A restore is audited in the database it filled. The copying
itself is ``ledger.backup``; these functions take the engine, not a session, because a copy
is of the whole database, outside any one transaction.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from actions.context import Context
from ledger import backup
from ledger.db import make_session_factory, session_scope
from ledger.migrate import upgrade

__all__ = ["back_up", "restore"]


def back_up(engine: Engine, ctx: Context, target: Path) -> backup.Backup:
    """Copy the whole database to ``target``, consistently, while the service serves."""
    made = backup.back_up(engine.url.render_as_string(hide_password=False), target)
    with session_scope(make_session_factory(engine)) as session:
        ctx.audit(session, "database.backup", f"backups/{made.path.name}"[:200])
    return made


def restore(engine: Engine, ctx: Context, source: Path) -> None:
    """Load the backup ``source`` into the empty database and bring its schema up to date
    (a backup from an earlier version is migrated like any database)."""
    backup.restore(engine.url.render_as_string(hide_password=False), source)
    upgrade(engine)
    with session_scope(make_session_factory(engine)) as session:
        ctx.audit(session, "database.restore", f"backups/{source.name}"[:200])
