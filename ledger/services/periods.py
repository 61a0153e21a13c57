"""Settlement quarters: which quarter a booking is paid out in, and guarding closes.

An event belongs to the quarter of its date. Once a district has closed that quarter, a late
event or a reversal lands in the district's first open quarter instead (the quarter after
the last closed one), as a correction; a closed quarter never changes.

A booking reads the district's closed quarters under a *shared* lock and a close takes the
same lock *exclusively*, so no booking can be assigned to a quarter while it is being closed
(on PostgreSQL an advisory lock per district; SQLite runs one writer at a time anyway).
"""

from __future__ import annotations

import datetime as dt
import zlib

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from ledger.models import Settlement
from ledger.vocabulary import SettlementStatus

__all__ = [
    "first_open",
    "label",
    "last_closed",
    "lock_for_booking",
    "lock_for_close",
    "parse",
    "period_for",
    "quarter_of",
]


def quarter_of(day: dt.date) -> tuple[int, int]:
    return day.year, (day.month - 1) // 3 + 1


def label(year: int, quarter: int) -> str:
    """``2024-Q2``: sorts in time order as text."""
    return f"{year}-Q{quarter}"


def parse(period: str) -> tuple[int, int]:
    year, quarter = period.split("-Q")
    return int(year), int(quarter)


def following(year: int, quarter: int) -> tuple[int, int]:
    return (year + 1, 1) if quarter == 4 else (year, quarter + 1)


def _lock_key(district: str) -> int:
    return zlib.crc32(f"settlement:{district}".encode()) & 0x7FFFFFFF


def lock_for_booking(session: Session, district: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock_shared(:k)"), {"k": _lock_key(district)})


def lock_for_close(session: Session, district: str) -> None:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _lock_key(district)})


def last_closed(session: Session, district: str) -> tuple[int, int] | None:
    row = session.execute(
        select(Settlement.year, Settlement.quarter)
        .where(Settlement.district == district, Settlement.status == SettlementStatus.CLOSED)
        .order_by(Settlement.year.desc(), Settlement.quarter.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def first_open(session: Session, district: str) -> tuple[int, int] | None:
    closed = last_closed(session, district)
    return following(*closed) if closed else None


def period_for(session: Session, district: str, day: dt.date) -> str:
    """The quarter a booking dated ``day`` in ``district`` is paid out in (takes the lock)."""
    lock_for_booking(session, district)
    own = quarter_of(day)
    opened = first_open(session, district)
    return label(*max(own, opened)) if opened else label(*own)
