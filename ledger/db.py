"""Engines, sessions and the transaction boundary.

Services and actions flush and never commit; whoever calls them (a request, a job, a
command) owns the transaction through :func:`session_scope` or :func:`run_in_transaction`.
The batch programs own theirs, one per unit of work, and say so: the importer (a row), the
demo (a patient), the simulator (a chunk of days), the outbox's dispatcher and reconciler
(a text is committed as ``sending`` before the channel is called), job-run claims and, on
SQLite, idempotency claims (committed before the work starts, so that another process sees
them; see ``ledger.services.idempotency``).

Writes are serialised where they must be by the database, never by a process-local lock, so
several server processes may write at once: on PostgreSQL by row locks taken in a fixed order
(see ``repository.lock``), on SQLite by ``BEGIN IMMEDIATE`` (one writer at a time, waiting up
to the busy timeout). Deadlocks, serialisation failures, a busy SQLite file and a concurrent
insert of the same idempotency key are retried by :func:`run_in_transaction`.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("ledger.db")

T = TypeVar("T")

SQLITE_BUSY_TIMEOUT_S = 30.0
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "55P03"})
# A unique key two writers raced for: on the next attempt the loser finds the winner's row
# and answers as for a replay (the same request) or a duplicate (the existing patient).
RETRYABLE_UNIQUE = (
    "pk_idempotent_requests",
    "idempotent_requests.key_id",
    "uq_transactions_reverses_id",
    "transactions.reverses_id",
    "uq_patients_person",
    "patients.name, patients.birth_date, patients.phone",
)


def normalise_url(url: str) -> str:
    """Accept ``postgresql://`` and ``postgres://`` and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for ``url``, with SQLite set up for safe concurrent writers."""
    url = normalise_url(url)
    parsed = make_url(url)
    # Statement parameters carry names and phone numbers: keep them out of error messages,
    # which end up in logs.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True, **kwargs)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN out of the driver's hands so that the "begin" hook below can say
        # IMMEDIATE: the write lock is taken up front, not on the first write, where two
        # readers upgrading at once would fail with SQLITE_BUSY instead of waiting.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def make_reader_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that only read: on SQLite they do not wait for the writer's lock (WAL)."""
    return sessionmaker(engine.execution_options(sqlite_begin="DEFERRED"), expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One database transaction: commit when the block succeeds, roll back when it raises."""
    with factory() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def is_retryable(error: BaseException) -> bool:
    """Whether ``error`` is a transient conflict that a fresh attempt can resolve."""
    if not isinstance(error, DBAPIError):
        return False
    orig = error.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in RETRYABLE_SQLSTATES:
        return True
    message = str(orig)
    if "database is locked" in message or "database is busy" in message:
        return True
    return any(name in message for name in RETRYABLE_UNIQUE)


def run_in_transaction(
    factory: sessionmaker[Session],
    work: Callable[[Session], T],
    *,
    attempts: int = 8,
) -> T:
    """Run ``work`` in its own transaction and commit, retrying transient conflicts."""
    for attempt in range(1, attempts + 1):
        try:
            with session_scope(factory) as session:
                return work(session)
        except DBAPIError as error:
            if attempt == attempts or not is_retryable(error):
                raise
            log.info(
                "ledger.db.retry",
                extra={"attempt": attempt, "error": type(error.orig).__name__},
            )
            time.sleep(random.uniform(0, 0.005 * 2**attempt))
    raise AssertionError("unreachable")  # pragma: no cover
