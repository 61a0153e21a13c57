"""Creating a row on first use without a race: ``INSERT ... ON CONFLICT DO NOTHING``, then read.

Two transactions that both look for a row, both miss it and both insert it collide on its
key: on PostgreSQL the second fails with a unique violation, since the first's row was not
visible to its look-up. Inserting with ``ON CONFLICT DO NOTHING`` instead makes the second
wait for the first to end and then insert nothing; its next statement reads the first's row
(READ COMMITTED takes a fresh snapshot per statement). SQLite runs one writer at a time, so
there the insert never meets a twin in flight; the statement is the same on both engines.
Every create-if-missing goes through here: a district's accounts, a settlement's draft, a
district's messaging switch and no-send days, a text in the outbox, a job's run date.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

__all__ = ["ignoring_existing", "insert_missing"]


def ignoring_existing(
    session: Session, entity: type[Any] | Table
) -> postgresql.Insert | sqlite.Insert:
    """``INSERT INTO entity ... ON CONFLICT DO NOTHING`` in the session's SQL dialect (a
    statement to give values and, if wanted, ``RETURNING``: no row comes back when the row
    existed)."""
    table = entity if isinstance(entity, Table) else cast(Table, entity.__table__)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing()


def insert_missing(session: Session, entity: type[Any] | Table, **values: Any) -> bool:
    """Insert the row unless one with the same key exists; whether this call inserted it."""
    # A Core statement does not autoflush: write what the caller added first (the row may
    # refer to it).
    session.flush()
    statement = ignoring_existing(session, entity).values(**values)
    # RETURNING tells an inserted row from a skipped one (a row count is not kept for an
    # INSERT by every driver).
    return session.execute(statement.returning(*statement.table.primary_key)).first() is not None
