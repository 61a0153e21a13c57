"""The scheduler lease: one leader at a time, on both engines.

On PostgreSQL the lease is a session-level advisory lock held on a connection of the leader's
own, so it lasts exactly as long as that connection; on SQLite it is a heartbeat row that a
rival takes over once nobody renewed it for ``ttl``. Every test gives each lease an engine of
its own (as two processes would have) and disposes of it afterwards, so that no lock held by a
pooled connection outlives its test.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from jobs.lease import LOCK_KEY, Lease
from ledger.clock import SEOUL
from ledger.db import make_engine, make_session_factory, session_scope
from ledger.models import SchedulerLease

T0 = dt.datetime(2026, 10, 12, 9, 0, tzinfo=SEOUL)
TTL = dt.timedelta(seconds=90)


class Leases:
    """Leases for one test, each on an engine of its own unless given one; all let go after.

    SQLite leases of one test share a row name (``name`` is the row's key), so that the tests
    of one module do not see each other's heartbeats.
    """

    def __init__(self, url: str, checker: Engine) -> None:
        self.url, self.name, self.checker = url, f"test-{uuid.uuid4().hex[:8]}", checker
        self.engines: list[Engine] = []
        self.made: list[Lease] = []

    def engine(self) -> Engine:
        engine = make_engine(self.url)
        self.engines.append(engine)
        return engine

    def __call__(self, engine: Engine | None = None, **options: Any) -> Lease:
        engine = engine or self.engine()
        options.setdefault("name", self.name)
        options.setdefault("ttl", TTL)
        lease = Lease(engine, make_session_factory(engine), **options)
        self.made.append(lease)
        return lease

    def close(self) -> None:
        for lease in self.made:
            if lease._connection is not None:
                lease._connection.invalidate()  # drop the DBAPI connection, and its lock
                lease._connection.close()
                lease._connection = None
        for engine in self.engines:
            engine.dispose()
        if self.checker.dialect.name == "postgresql":  # the server ends those sessions soon
            assert wait_until(lambda: advisory_holders(self.checker) == 0)


@pytest.fixture
def new_lease(database_url: str, engine: Engine) -> Iterator[Leases]:
    leases = Leases(database_url, engine)
    yield leases
    leases.close()


def advisory_holders(engine: Engine) -> int:
    """How many sessions hold the scheduler's advisory lock in this database."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND database = (SELECT oid FROM pg_database "
                    "WHERE datname = current_database()) AND objid = :k"
                ),
                {"k": LOCK_KEY},
            ).scalar_one()
        )


def wait_until(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


# -- both engines -------------------------------------------------------------------------


def test_two_leases_on_one_engine_one_leads(new_lease: Leases) -> None:
    shared = new_lease.engine()
    first, second = new_lease(shared), new_lease(shared)
    assert first.held(now=T0) is True
    assert second.held(now=T0) is False
    # the leader renews; the other keeps being refused
    assert first.held(now=T0 + dt.timedelta(seconds=30)) is True
    assert second.held(now=T0 + dt.timedelta(seconds=31)) is False
    assert first.holder != second.holder


def test_two_leases_on_two_engines_one_leads(new_lease: Leases) -> None:
    first, second, third = new_lease(), new_lease(), new_lease()
    assert first.held(now=T0) is True
    assert second.held(now=T0) is False
    assert third.held(now=T0) is False
    assert first.held(now=T0 + dt.timedelta(minutes=1)) is True
    assert second.held(now=T0 + dt.timedelta(minutes=1)) is False


def test_a_release_lets_the_other_lead(new_lease: Leases) -> None:
    first, second = new_lease(), new_lease()
    assert first.held(now=T0) is True
    assert second.held(now=T0) is False
    first.release()
    # (a lock freed by closing its connection is freed as soon as the server sees it close)
    assert wait_until(lambda: second.held(now=T0 + dt.timedelta(seconds=1)), timeout=3)
    assert first.held(now=T0 + dt.timedelta(seconds=2)) is False


def test_a_release_of_a_lease_not_held_takes_nothing_from_the_leader(
    new_lease: Leases,
) -> None:
    leader, other = new_lease(), new_lease()
    assert leader.held(now=T0) is True
    assert other.held(now=T0) is False
    other.release()
    assert leader.held(now=T0 + dt.timedelta(seconds=1)) is True
    assert new_lease().held(now=T0 + dt.timedelta(seconds=2)) is False


# -- SQLite: the heartbeat row ------------------------------------------------------------


@pytest.mark.engine("sqlite")
def test_sqlite_a_lease_not_renewed_for_its_ttl_is_taken_over(
    engine: Engine, new_lease: Leases
) -> None:
    first, second = new_lease(), new_lease()
    assert first.held(now=T0) is True
    assert second.held(now=T0 + TTL - dt.timedelta(seconds=1)) is False
    # the leader stopped renewing at T0: at T0 + ttl its lease has run out
    assert second.held(now=T0 + TTL) is True
    assert first.held(now=T0 + TTL + dt.timedelta(seconds=1)) is False
    # the new leader's own renewals keep it
    assert second.held(now=T0 + 2 * TTL) is True
    assert first.held(now=T0 + 2 * TTL + dt.timedelta(seconds=1)) is False


@pytest.mark.engine("sqlite")
def test_sqlite_renewing_pushes_the_expiry_on(
    engine: Engine, sessions: sessionmaker[Session], new_lease: Leases
) -> None:
    first, second = new_lease(), new_lease()
    for minutes in range(5):  # renewed every minute, within the 90 s ttl
        assert first.held(now=T0 + dt.timedelta(minutes=minutes)) is True
        assert second.held(now=T0 + dt.timedelta(minutes=minutes, seconds=30)) is False
    with session_scope(sessions) as session:
        row = session.get(SchedulerLease, first.name)
        assert row is not None
        assert (row.holder, row.expires_at) == (first.holder, T0 + dt.timedelta(minutes=4) + TTL)


@pytest.mark.engine("sqlite")
def test_sqlite_a_release_deletes_the_row(
    engine: Engine, sessions: sessionmaker[Session], new_lease: Leases
) -> None:
    lease = new_lease()
    assert lease.held(now=T0) is True
    lease.release()
    with session_scope(sessions) as session:
        assert session.get(SchedulerLease, lease.name) is None


# -- PostgreSQL: the advisory lock --------------------------------------------------------


@pytest.mark.engine("postgresql")
def test_postgresql_the_lock_is_held_by_one_session_exactly(
    engine: Engine, new_lease: Leases
) -> None:
    first, second = new_lease(), new_lease()
    assert advisory_holders(engine) == 0
    assert first.held() and not second.held()
    assert advisory_holders(engine) == 1


@pytest.mark.engine("postgresql")
def test_postgresql_a_release_frees_the_lock_in_the_database(
    engine: Engine, new_lease: Leases
) -> None:
    """``release()`` must free the lock itself, not hand its connection back to the pool
    still holding it: a pooled connection lives on, and so would a session-level lock."""
    lease = new_lease()
    assert lease.held() is True
    lease.release()
    assert wait_until(lambda: advisory_holders(engine) == 0, timeout=3)


@pytest.mark.engine("postgresql")
def test_postgresql_a_dead_leaders_connection_frees_the_lock_for_the_other(
    engine: Engine, new_lease: Leases
) -> None:
    leader, other = new_lease(), new_lease()
    assert leader.held() is True
    assert other.held() is False
    # the process dies: its socket closes, the server ends the session and its locks
    leader._connection.invalidate()
    leader._connection = None
    assert wait_until(other.held)
    assert advisory_holders(engine) == 1


@pytest.mark.engine("postgresql")
def test_postgresql_a_leader_whose_session_was_ended_sees_it_and_does_not_lead_twice(
    engine: Engine, new_lease: Leases
) -> None:
    leader, other = new_lease(), new_lease()
    assert leader.held() is True
    pid = leader._connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
    with engine.connect() as admin:
        assert admin.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
    assert wait_until(other.held)
    # the old leader finds its connection broken, asks afresh and is refused
    assert leader.held() is False
    assert other.held() is True
    assert advisory_holders(engine) == 1


def hold_and_wait(url: str, held: Any) -> None:
    """Worker: take the lease, say so, then wait to be killed."""
    engine = make_engine(url)
    lease = Lease(engine, make_session_factory(engine))
    held.put(lease.held())
    time.sleep(60)


@pytest.mark.engine("postgresql")
def test_postgresql_a_killed_leader_process_frees_the_lock_at_once(
    engine: Engine, database_url: str, new_lease: Leases
) -> None:
    context = multiprocessing.get_context("spawn")
    held = context.Queue()
    process = context.Process(target=hold_and_wait, args=(database_url, held))
    process.start()
    try:
        assert held.get(timeout=30) is True
        other = new_lease()
        assert other.held() is False
        process.kill()
        process.join(10)
        assert wait_until(other.held), "the lock outlived the process that held it"
    finally:
        if process.is_alive():
            process.kill()
            process.join()
        held.close()
        held.join_thread()
