"""How often a principal may do an action: fixed windows counted in the database.

A rate-limited action calls :func:`take` in its own transaction before it does anything. The
count lives in one ``rate_counters`` row per (principal, action), so the limit holds across
any number of server processes, and nothing sums the audit trail on the hot path.

Race-free on both engines: one statement, ``INSERT ... ON CONFLICT DO UPDATE ... RETURNING``,
creates the row, moves it to the current window or adds one to it, and returns the new count.
On PostgreSQL the conflicting row is locked by that statement, so two concurrent takes of one
principal queue on the row and each sees the other's increment; on SQLite the transaction
already holds the single write lock (``BEGIN IMMEDIATE``). A take that is refused has counted
too (the caller keeps it, see ``api.deps.keep_refusals``): hammering while refused gains
nothing. Windows are fixed (aligned to the epoch), so a caller may make up to twice the limit
across a window's edge; the limit is a brake on probing, not a quota.
"""

from __future__ import annotations

import datetime as dt
import math

from sqlalchemy import case, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ledger.errors import RateLimited
from ledger.models import RateCounter

__all__ = ["give_back", "take"]


def _window_of(now: dt.datetime, window: dt.timedelta) -> tuple[float, dt.datetime]:
    """The start of the fixed window ``now`` falls in: as epoch seconds and as a time."""
    span = window.total_seconds()
    start_s = math.floor(now.timestamp() / span) * span
    return start_s, dt.datetime.fromtimestamp(start_s, tz=now.tzinfo or dt.UTC)


def take(
    session: Session,
    *,
    principal: str,
    action: str,
    limit: int,
    window: dt.timedelta,
    now: dt.datetime,
) -> None:
    """Count one more ``action`` by ``principal`` in the window of ``now``; raise
    :class:`RateLimited` when that makes more than ``limit``."""
    span = window.total_seconds()
    start_s, start = _window_of(now, window)
    insert = (
        postgresql.insert(RateCounter)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(RateCounter)
    )
    same_window = RateCounter.window_start == insert.excluded.window_start
    statement = (
        insert.values(principal=principal, action=action, window_start=start, count=1)
        .on_conflict_do_update(
            index_elements=[RateCounter.principal, RateCounter.action],
            set_={
                "count": case((same_window, RateCounter.count + 1), else_=1),
                "window_start": insert.excluded.window_start,
            },
        )
        .returning(RateCounter.count)
    )
    count = session.execute(statement).scalar_one()
    if count > limit:
        retry_after = max(1, math.ceil(start_s + span - now.timestamp()))
        raise RateLimited(
            f"more than {limit} {action} in {int(span)} s; try again in {retry_after} s",
            retry_after=retry_after,
        )


def give_back(
    session: Session,
    *,
    principal: str,
    action: str,
    window: dt.timedelta,
    now: dt.datetime,
) -> None:
    """Uncount one ``action`` taken in the window of ``now`` (an attempt that turned out well,
    such as a sign-in with the right password, need not count against the brake). Taking
    first and giving back after keeps the limit exact under concurrent attempts: no more
    than ``limit`` are ever in flight."""
    _, start = _window_of(now, window)
    session.execute(
        update(RateCounter)
        .where(
            RateCounter.principal == principal,
            RateCounter.action == action,
            RateCounter.window_start == start,
            RateCounter.count > 0,
        )
        .values(count=RateCounter.count - 1)
    )
