"""The stored side of ``Idempotency-Key``: a claim per (API key, Idempotency-Key) holding the
request's hash and a lease, and the answer once the request has one.

The HTTP layer (``api/idempotency.py``) decides when each step runs and in which
transaction; these functions only read and write the claim rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ledger import clock
from ledger.models import IdempotentRequest

__all__ = ["LEASE", "Decision", "claim", "peek", "release", "store"]

LEASE = dt.timedelta(minutes=5)


@dataclass(frozen=True)
class Decision:
    action: str  # "proceed", "replay", "reused", "in_flight"
    status: int | None = None
    body: bytes = b""
    content_type: str | None = None


def claim(session: Session, key_id: str, key: str, fingerprint: str) -> Decision:
    now = clock.now()
    row = session.get(IdempotentRequest, (key_id, key), with_for_update=True)
    if row is None:
        session.add(
            IdempotentRequest(
                key_id=key_id,
                idempotency_key=key,
                request_hash=fingerprint,
                claimed_until=now + LEASE,
                created_at=now,
            )
        )
        session.flush()
        return Decision("proceed")
    decision = decide(row, fingerprint)
    if decision is None:  # the first worker died: take the request over
        row.claimed_until = now + LEASE
        return Decision("proceed")
    return decision


def decide(row: IdempotentRequest, fingerprint: str) -> Decision | None:
    """What a claimed key means for a repeat; None when its lease ran out."""
    if row.request_hash != fingerprint:
        return Decision("reused")
    if row.status_code is not None:
        return Decision("replay", row.status_code, (row.response or "").encode(), row.content_type)
    if row.claimed_until > clock.now():
        return Decision("in_flight")
    return None


def store(
    session: Session, key_id: str, key: str, status: int, content_type: str | None, body: bytes
) -> None:
    row = session.get(IdempotentRequest, (key_id, key))
    if row is None:
        raise RuntimeError("the idempotency claim vanished before the answer was stored")
    row.status_code = status
    row.response = body.decode("utf-8")
    row.content_type = content_type
    session.flush()


def peek(session: Session, key_id: str, key: str, fingerprint: str) -> Decision | None:
    """The decision for a key already claimed, or None when it is not."""
    row = session.get(IdempotentRequest, (key_id, key))
    return None if row is None else decide(row, fingerprint)


def release(session: Session, key_id: str, key: str) -> None:
    """Drop an unanswered claim, so that the client's retry runs the request afresh."""
    row = session.get(IdempotentRequest, (key_id, key))
    if row is not None and row.status_code is None:
        session.delete(row)
