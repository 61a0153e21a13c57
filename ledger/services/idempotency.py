"""The stored side of ``Idempotency-Key``: a claim per (API key, Idempotency-Key) that lives
exactly as long as the request working on it, and the answer once the request has one.

A claim must say "in flight" while its request truly runs, in this process or another, and
must be free the moment that request is gone, however it went: answered, failed, or its
process killed mid-request (then the first repeat after the restart runs the request, or
replays its answer, at once; never a 409 for minutes). Each engine ties the claim to the
request's life with what it has:

PostgreSQL: a lock that dies with the connection.
    The claim is made *inside the request's own transaction*: ``claim`` takes
    ``pg_try_advisory_xact_lock`` on a hash of (key id, Idempotency-Key) (the two-key form,
    in a class of its own, so it can never meet the single-key locks of settlements and the
    scheduler), then reads the row and inserts it, uncommitted. The request runs in that
    same transaction and its answer is stored in it, so the work, the row and the answer
    commit together or not at all. A twin in flight is a twin whose lock is held: its
    ``try`` fails at once and it answers 409. When the request ends, or its process dies, or
    its connection breaks, PostgreSQL ends the transaction and the lock goes with it; no row
    of an unanswered claim is ever committed. A killed process's backend may be waiting on a
    row lock rather than reading its socket, so the transaction also sets
    ``client_connection_check_interval`` (PostgreSQL 14+): the backend checks for its
    vanished client every second and ends, rather than holding the claim until its wait is
    over. (A client host that vanishes without closing its sockets is caught by the server's
    TCP keepalives, ``tcp_keepalives_*``.)

SQLite: a row naming a live process.
    SQLite has one writer at a time, and the request's transaction holds that write lock
    from its first statement to its commit, so a twin could not even read an uncommitted
    claim. The claim is therefore committed in a short transaction of its own before the
    request runs, naming its holder: the host, boot id, pid and start time of the serving
    process (``ledger.processes``). A twin that finds an unanswered claim asks whether its
    holder still runs: if so it answers 409; if not (the process was killed), it takes the
    claim over at once. The request's work and its answer then commit together in the
    request's transaction, exactly as on PostgreSQL; a failure (5xx) deletes the claim.
    Taking over cannot double the work: the takeover is itself a write, so it waits for any
    transaction of the old holder to end, and it happens only when that holder is gone. A
    holder on another host (not a supported set-up for SQLite) cannot be checked: its claim
    then keeps the old lease, ``LEASE`` after it was made.

On both engines a refusal (4xx) books nothing and its answer is stored, in the same
transaction, for replays (the HTTP layer rolls the work back to a savepoint first); a repeat
with another body is refused as a reuse whatever state the claim is in.

The HTTP layer (``api/idempotency.py``) decides when each step runs and in which
transaction; these functions only lock, read and write the claim rows.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session

from ledger import clock, processes
from ledger.models import IdempotentRequest

__all__ = [
    "LEASE",
    "Decision",
    "answer_of",
    "claim",
    "claim_and_hold",
    "claims_in_request_transaction",
    "let_go",
    "peek",
    "release",
    "store",
]

LEASE = dt.timedelta(minutes=5)
# The class (first key) of the two-key advisory locks that guard claims on PostgreSQL.
LOCK_CLASS = 0x1DE7
CONNECTION_CHECK_MS = 1000


@dataclass(frozen=True)
class Decision:
    action: str  # "proceed", "replay", "reused", "in_flight"
    status: int | None = None
    body: bytes = b""
    content_type: str | None = None


def claims_in_request_transaction(session: Session) -> bool:
    """Whether a claim is made in the request's own transaction (PostgreSQL) rather than
    committed before the request runs (SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


def claim(
    session: Session, key_id: str, key: str, fingerprint: str, *, wait: bool = False
) -> Decision:
    """Claim (key id, key) for the calling request in ``session``'s transaction, or say why
    not: a replay, a reuse, or a twin in flight.

    With ``wait`` (the console's one-time form tokens, whose claims are never committed
    apart) a twin waits for the first request to end and then replays its answer: on
    PostgreSQL it waits for the advisory lock; on SQLite ``BEGIN IMMEDIATE`` already made it
    wait for the first request's commit before its first statement.
    """
    if claims_in_request_transaction(session) and not _lock(session, key_id, key, wait=wait):
        return Decision("in_flight")
    now = clock.now()
    row = session.get(IdempotentRequest, (key_id, key), with_for_update=True)
    if row is None:
        session.add(
            IdempotentRequest(
                key_id=key_id,
                idempotency_key=key,
                request_hash=fingerprint,
                claimed_until=now + LEASE,
                claimed_by=str(processes.current()),
                created_at=now,
            )
        )
        session.flush()
        return Decision("proceed")
    decision = decide(session, row, fingerprint)
    if decision is None:  # its request is gone: take the claim over
        row.claimed_until = now + LEASE
        row.claimed_by = str(processes.current())
        session.flush()
        return Decision("proceed")
    return decision


def decide(session: Session, row: IdempotentRequest, fingerprint: str) -> Decision | None:
    """What a claimed key means for a repeat; None when its request is gone."""
    if row.request_hash != fingerprint:
        return Decision("reused")
    if row.status_code is not None:
        return Decision("replay", row.status_code, (row.response or "").encode(), row.content_type)
    if claims_in_request_transaction(session):
        # Committed unanswered rows are left by older versions only: the lock decides.
        return None
    return Decision("in_flight") if _holder_runs(row) else None


# The claims this process is working on right now (SQLite). A claim that names this process
# but is not among them was orphaned (its request ended and its release failed): it is
# free, rather than "in flight" for as long as the process lives.
_IN_FLIGHT: set[tuple[str, str]] = set()
# Held while a claim is made and entered, so that no twin of this process sees the committed
# claim before it is in the set (it would take it for an orphan). Re-entrant: the claim's own
# check of its holder takes it too.
_IN_FLIGHT_LOCK = threading.RLock()


def claim_and_hold(key_id: str, key: str, make_claim: Callable[[], Decision]) -> Decision:
    """Run ``make_claim`` (committing a claim apart, on SQLite) and, when the request may
    proceed, enter it as this process's claim in flight, as one step for this process."""
    with _IN_FLIGHT_LOCK:
        decision = make_claim()
        if decision.action == "proceed":
            _IN_FLIGHT.add((key_id, key))
        return decision


def let_go(key_id: str, key: str) -> None:
    """Say that the request working on (key id, key) has ended, however it ended."""
    with _IN_FLIGHT_LOCK:
        _IN_FLIGHT.discard((key_id, key))


def _holder_runs(row: IdempotentRequest) -> bool:
    if row.claimed_by == str(processes.current()):
        with _IN_FLIGHT_LOCK:
            return (row.key_id, row.idempotency_key) in _IN_FLIGHT
    holder = processes.ProcessIdentity.parse(row.claimed_by or "")
    running = None if holder is None else processes.is_running(holder)
    if running is None:  # another host's, or an old row: the lease decides
        return row.claimed_until > clock.now()
    return running


def _lock(session: Session, key_id: str, key: str, *, wait: bool = False) -> bool:
    """Take the claim's advisory lock for the rest of the transaction, if no one holds it
    (with ``wait``, once its holder lets it go).

    Two keys whose 32-bit hashes meet answer 409 to each other while both run (the client
    repeats in a moment); they never share a claim row.
    """
    digest = hashlib.sha256(f"{key_id}\n{key}".encode()).digest()
    number = int.from_bytes(digest[:4], "big", signed=True)
    version = session.get_bind().dialect.server_version_info or (0,)
    if version >= (14,):
        session.execute(
            text("SELECT set_config('client_connection_check_interval', :ms, true)"),
            {"ms": str(CONNECTION_CHECK_MS)},
        )
    if wait:
        session.execute(
            text("SELECT pg_advisory_xact_lock(:class, :number)"),
            {"class": LOCK_CLASS, "number": number},
        )
        return True
    taken = session.execute(
        text("SELECT pg_try_advisory_xact_lock(:class, :number)"),
        {"class": LOCK_CLASS, "number": number},
    )
    return bool(taken.scalar_one())


def store(
    session: Session, key_id: str, key: str, status: int, content_type: str | None, body: bytes
) -> None:
    """Record the answer on the claim; refused when the claim is no longer this process's."""
    row = session.get(IdempotentRequest, (key_id, key))
    if row is None:
        raise RuntimeError("the idempotency claim vanished before the answer was stored")
    if row.claimed_by != str(processes.current()):
        raise RuntimeError("the idempotency claim was taken over before the answer was stored")
    row.status_code = status
    row.response = body.decode("utf-8")
    row.content_type = content_type
    session.flush()


def peek(session: Session, key_id: str, key: str, fingerprint: str) -> Decision | None:
    """The decision for a key already claimed, read without taking a lock; None when it is
    not claimed, or its request is gone."""
    row = session.get(IdempotentRequest, (key_id, key))
    return None if row is None else decide(session, row, fingerprint)


def answer_of(session: Session, key_id: str, key: str) -> str | None:
    """The stored answer of (key id, key), if it has one."""
    row = session.get(IdempotentRequest, (key_id, key))
    return None if row is None or row.status_code is None else row.response


def release(session: Session, key_id: str, key: str) -> None:
    """Drop this process's unanswered claim, so that the client's retry runs afresh."""
    row = session.get(IdempotentRequest, (key_id, key))
    if row is not None and row.status_code is None and row.claimed_by == str(processes.current()):
        session.delete(row)
