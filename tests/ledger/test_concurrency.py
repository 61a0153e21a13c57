"""Concurrent writers in separate processes neither pass a limit nor lose nor double a booking.

Every test starts two OS processes ('spawn') of eight threads each; every thread is a writer
with its own engine and connection, and all sixteen start together at one barrier. Writers
go through ``run_in_transaction``, which retries deadlocks, serialisation failures and a busy
SQLite file, and report back what each attempt booked.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import queue
import threading
import traceback
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.db import make_engine, make_session_factory, run_in_transaction
from ledger.domain import AccountType, Limit, Transfer
from ledger.errors import InsufficientFunds
from ledger.models import Entry, LimitCounter
from ledger.services.booking import book
from ledger.services.reading import balance, history
from ledger.services.verify import verify
from tests.factories import make_account, make_award_accounts

DAY = dt.date(2024, 3, 5)
PROCESSES = 2
THREADS = 8
WRITERS = PROCESSES * THREADS
TIMEOUT_S = 60

CAP_AMOUNT = 50_000
CAP = Limit("2024/annual", "annual_cap", max_amount=CAP_AMOUNT)
AWARD = 1_000
ATTEMPTS_PER_WRITER = 6  # 96 attempts of 1,000 M against room for 50
SPEND = 1_000
FUNDS = 10_000

Writer = Callable[..., list[dict[str, Any]]]


# Workers: top-level so that a spawned process can import them ----------------------------


def award_under_the_cap(
    sessions: sessionmaker[Session], expense: int, patient: int
) -> list[dict[str, Any]]:
    results = []
    for _ in range(ATTEMPTS_PER_WRITER):
        booked = run_in_transaction(
            sessions,
            lambda s: book(
                s,
                kind="award",
                effective_date=DAY,
                transfers=[Transfer(expense, patient, AWARD, (CAP,), tag="visit")],
            ),
        )
        outcome = booked.outcomes[0]
        results.append(
            {
                "transaction_id": booked.transaction_id,
                "credited": outcome.amount,
                "clipped": outcome.clipped,
            }
        )
    return results


def spend_once(sessions: sessionmaker[Session], patient: int, clinic: int) -> list[dict[str, Any]]:
    try:
        booked = run_in_transaction(
            sessions,
            lambda s: book(
                s,
                kind="redemption",
                effective_date=DAY,
                transfers=[Transfer(patient, clinic, SPEND, tag="redemption")],
            ),
        )
    except InsufficientFunds as refused:
        return [{"spent": 0, "refused": True, "balance_seen": refused.balance}]
    return [{"spent": booked.outcomes[0].amount, "refused": False, "id": booked.transaction_id}]


def run_writers(
    url: str,
    writer: Writer,
    args: tuple[Any, ...],
    start: Any,
    results: Any,
) -> None:
    """One process: THREADS writers, each with its own engine, all released by ``start``."""
    collected: list[dict[str, Any]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def thread_main() -> None:
        engine = make_engine(url)
        try:
            sessions = make_session_factory(engine)
            start.wait(TIMEOUT_S)
            out = writer(sessions, *args)
            with lock:
                collected.extend({**row, "pid": os.getpid()} for row in out)
        except BaseException:
            with lock:
                errors.append(traceback.format_exc())
        finally:
            engine.dispose()

    threads = [threading.Thread(target=thread_main) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    results.put((os.getpid(), collected, errors))


def run_in_processes(url: str, writer: Writer, *args: Any) -> list[dict[str, Any]]:
    """Run ``writer(sessions, *args)`` in WRITERS threads over PROCESSES spawned processes."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(WRITERS)
    results = context.Queue()
    processes = [
        context.Process(target=run_writers, args=(url, writer, args, start, results))
        for _ in range(PROCESSES)
    ]
    for p in processes:
        p.start()
    try:
        reports = [results.get(timeout=TIMEOUT_S) for _ in processes]
    except queue.Empty:
        raise AssertionError("a writer process did not report back in time") from None
    finally:
        for p in processes:
            p.join(TIMEOUT_S)
            if p.is_alive():
                p.terminate()
                p.join()
        results.close()
        results.join_thread()
    assert [p.exitcode for p in processes] == [0] * PROCESSES
    errors = [error for _, _, errs in reports for error in errs]
    assert errors == [], "\n".join(errors)
    assert len({pid for pid, _, _ in reports}) == PROCESSES, "writers shared one process"
    return [row for _, rows, _ in reports for row in rows]


def setup(sessions: sessionmaker[Session], work: Callable[[Session], Any]) -> Any:
    return run_in_transaction(sessions, work)


# Tests ----------------------------------------------------------------------------------


def test_sixteen_writers_in_two_processes_reach_the_cap_exactly(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    expense, patient = setup(sessions, make_award_accounts)

    results = run_in_processes(database_url, award_under_the_cap, expense, patient)

    assert len(results) == WRITERS * ATTEMPTS_PER_WRITER
    assert all(r["credited"] + r["clipped"] == AWARD for r in results)
    assert all(r["credited"] in (0, AWARD) for r in results)
    credited = [r for r in results if r["credited"] > 0]
    assert len(credited) == CAP_AMOUNT // AWARD
    assert sum(r["credited"] for r in results) == CAP_AMOUNT
    assert len({r["transaction_id"] for r in results}) == len(results)

    with sessions() as session:
        assert balance(session, patient) == CAP_AMOUNT
        counter = session.get(LimitCounter, (patient, CAP.key))
        assert counter is not None
        assert counter.amount == CAP_AMOUNT
        credited_in_ledger = set(
            session.execute(
                select(Entry.transaction_id).where(Entry.account_id == patient, Entry.amount != 0)
            ).scalars()
        )
        assert credited_in_ledger == {r["transaction_id"] for r in credited}
        running = [row.balance for row in history(session, patient, limit=500).rows]
        assert len(running) == len(credited)
        assert max(running) == running[-1] == CAP_AMOUNT
        assert verify(session) == []


def test_sixteen_writers_spending_one_balance_spend_it_exactly_once(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    def fund(session: Session) -> tuple[int, int]:
        expense, patient = make_award_accounts(session)
        clinic = make_account(session, AccountType.CLINIC_REIMBURSABLE)
        book(
            session,
            kind="award",
            effective_date=DAY,
            transfers=[Transfer(expense, patient, FUNDS)],
        )
        return patient, clinic

    patient, clinic = setup(sessions, fund)

    results = run_in_processes(database_url, spend_once, patient, clinic)

    assert len(results) == WRITERS
    spent = [r for r in results if not r["refused"]]
    refused = [r for r in results if r["refused"]]
    assert len(spent) == FUNDS // SPEND
    assert len(refused) == WRITERS - FUNDS // SPEND
    assert all(r["spent"] == SPEND for r in spent)
    assert all(r["balance_seen"] == 0 for r in refused)

    with sessions() as session:
        assert balance(session, patient) == 0
        assert balance(session, clinic) == FUNDS
        running = [row.balance for row in history(session, patient, limit=500).rows]
        assert min(running) >= 0, running
        assert verify(session) == []
