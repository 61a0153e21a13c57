"""Only one process runs the scheduled jobs at a time, whatever number of processes serve.

On PostgreSQL the leader holds a session-level advisory lock on a connection of its own: if
the process dies, the connection closes and the lock is free at once. On SQLite, which has no
such locks, the leader keeps a heartbeat row up to date; a lease nobody renewed for
``ttl`` is taken over. APScheduler's job stores are not meant to be shared between
schedulers, so each process schedules its jobs in memory and asks the lease before running.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import threading
import zlib
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from ledger import clock
from ledger.db import run_in_transaction
from ledger.models import SchedulerLease

__all__ = ["Lease"]

LOCK_KEY = zlib.crc32(b"mileage:scheduler") & 0x7FFFFFFF


class Lease:
    def __init__(
        self,
        engine: Engine,
        sessions: sessionmaker[Session],
        *,
        name: str = "scheduler",
        ttl: dt.timedelta = dt.timedelta(seconds=90),
    ) -> None:
        self.engine, self.sessions, self.name, self.ttl = engine, sessions, name, ttl
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self._connection: Any = None
        self._guard = threading.Lock()

    def held(self, now: dt.datetime | None = None) -> bool:
        """Whether this process leads now: taking the lead, or renewing it, as it can."""
        with self._guard:
            if self.engine.dialect.name == "postgresql":
                return self._advisory()
            return self._heartbeat(now or clock.now())

    def release(self) -> None:
        with self._guard:
            if self._connection is not None:
                # The pool keeps the connection (and its session's lock) open: unlock first.
                self._connection.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": LOCK_KEY})
                self._connection.close()
                self._connection = None
                return
            if self.engine.dialect.name == "postgresql":
                return

            def drop(session: Session) -> None:
                row = session.get(SchedulerLease, self.name)
                if row is not None and row.holder == self.holder:
                    session.delete(row)

            run_in_transaction(self.sessions, drop)

    def _advisory(self) -> bool:
        if self._connection is not None:
            try:
                self._connection.exec_driver_sql("SELECT 1")
                return True
            except Exception:  # the connection broke: so did the lock; try afresh
                self._connection = None
        connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        taken = connection.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": LOCK_KEY})
        if taken.scalar_one():
            self._connection = connection
            return True
        connection.close()
        return False

    def _heartbeat(self, now: dt.datetime) -> bool:
        def beat(session: Session) -> bool:
            row = session.get(SchedulerLease, self.name)
            if row is None:
                session.add(
                    SchedulerLease(name=self.name, holder=self.holder, expires_at=now + self.ttl)
                )
                return True
            if row.holder == self.holder or row.expires_at <= now:
                row.holder, row.expires_at = self.holder, now + self.ttl
                return True
            return False

        return run_in_transaction(self.sessions, beat)
