"""A district's health centre controls its texts: a pause (texts wait, none is lost) and
no-send days of its own."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ledger import clock
from ledger.models import DistrictMessaging, NoSendDay
from ledger.repository.missing import insert_missing

__all__ = ["messaging_state", "no_send_days", "remove_no_send_day", "set_no_send_day", "set_paused"]


def messaging_state(session: Session, district: str) -> DistrictMessaging:
    row = session.get(DistrictMessaging, district)
    if row is None:
        row = DistrictMessaging(
            district=district, paused=False, reason="", changed_at=clock.now(), changed_by=""
        )
    return row


def set_paused(
    session: Session, district: str, *, paused: bool, reason: str, by: str, now: dt.datetime
) -> DistrictMessaging:
    """Pause or resume a district's texts; paused, they wait in the outbox, none is lost."""
    insert_missing(session, DistrictMessaging, district=district, changed_at=now)
    row = session.get(DistrictMessaging, district, with_for_update=True, populate_existing=True)
    assert row is not None, "the switch was inserted or found just above"
    row.paused, row.reason, row.changed_at, row.changed_by = paused, reason, now, by
    session.flush()
    return row


def set_no_send_day(session: Session, district: str, day: dt.date, *, reason: str) -> NoSendDay:
    insert_missing(session, NoSendDay, district=district, day=day, reason=reason)
    row = session.get(NoSendDay, (district, day), with_for_update=True, populate_existing=True)
    assert row is not None, "the day was inserted or found just above"
    row.reason = reason
    session.flush()
    return row


def remove_no_send_day(session: Session, district: str, day: dt.date) -> bool:
    """Send on that day again; whether it was a no-send day (removed twice at once: once)."""
    removed = session.execute(
        delete(NoSendDay).where(NoSendDay.district == district, NoSendDay.day == day)
    )
    return bool(getattr(removed, "rowcount", 0))


def no_send_days(session: Session, district: str, *, since: dt.date) -> list[NoSendDay]:
    return list(
        session.execute(
            select(NoSendDay)
            .where(NoSendDay.district == district, NoSendDay.day >= since)
            .order_by(NoSendDay.day)
        ).scalars()
    )
