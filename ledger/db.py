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

Reads do not wait for writers. A reader session (:func:`make_reader_factory`) begins
``DEFERRED`` on SQLite, which in WAL mode reads its snapshot beside the one writer, and may
not write (``PRAGMA query_only``; a read-only transaction on PostgreSQL). What a read must
record, its audit row, is handed to :func:`after_read` and written by :func:`read_scope` in a
short write transaction of its own once the read is over: GET requests, ``ledger verify``
and the jobs' long reads run this way.

A SQLite database file is created readable by its owner only (0600); SQLite gives the -wal
and -shm files it creates beside it the same mode. Commits are synced to disk
(``synchronous=FULL``): a booking acknowledged to a clinic survives a power cut.
"""

from __future__ import annotations

import logging
import os
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
# Session.info keys: a session that only reads, and the writes its read left for after it.
READER = "ledger.db.reader"
AFTER_READ = "ledger.db.after_read"
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
    if parsed.database and parsed.database != ":memory:" and not parsed.query.get("uri"):
        _create_private(Path(parsed.database))
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
        # NORMAL would not sync the WAL at each commit: an acknowledged booking could be
        # lost with the machine's power. A money ledger acknowledges only what is on disk.
        cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute(f"PRAGMA busy_timeout = {int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "IMMEDIATE")
        # A reader (DEFERRED) may not write: its first write would take the write lock it
        # was meant never to wait for. The flag is per connection; set it when it changes.
        query_only = mode == "DEFERRED"
        info = connection.connection.info
        if info.get("query_only", False) != query_only:
            connection.exec_driver_sql(f"PRAGMA query_only = {int(query_only)}")
            info["query_only"] = query_only
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _create_private(path: Path) -> None:
    """Create the database file (and its directory) for its owner alone, before SQLite opens
    it: SQLite would create it 0644 (with the usual umask), readable by every local user,
    and gives the -wal and -shm files the main file's mode. An existing file is left as it
    is."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def make_reader_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that only read: on SQLite they do not wait for the writer's lock (WAL).

    They may not write (a write fails at once); what a read must record goes through
    :func:`after_read`.
    """
    reading = engine.execution_options(sqlite_begin="DEFERRED", postgresql_readonly=True)
    return sessionmaker(reading, expire_on_commit=False, info={READER: True})


def is_reader(session: Session) -> bool:
    """Whether ``session`` came from :func:`make_reader_factory`."""
    return bool(session.info.get(READER))


def after_read(session: Session, work: Callable[[Session], None]) -> None:
    """Have ``work`` (an audit row) written once the read on this reader session is over, in
    a short write transaction of its own (:func:`read_scope`)."""
    session.info.setdefault(AFTER_READ, []).append(work)


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


@contextmanager
def read_scope(readers: sessionmaker[Session], writers: sessionmaker[Session]) -> Iterator[Session]:
    """A read on a reader session, then, once it is over, what it left to write
    (:func:`after_read`) in a short write transaction of its own. A read that raises writes
    nothing."""
    with readers() as session:
        yield session
        pending: list[Callable[[Session], None]] = session.info.pop(AFTER_READ, [])
    if pending:
        run_in_transaction(writers, lambda s: _run_each(pending, s))


def _run_each(works: list[Callable[[Session], None]], session: Session) -> None:
    for work in works:
        work(session)


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
