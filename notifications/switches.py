"""A district's health centre controls its texts: a pause (texts wait, none is lost) and
no-send days of its own."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import clock
from ledger.models import DistrictMessaging, NoSendDay

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
    row = session.get(DistrictMessaging, district)
    if row is None:
        row = DistrictMessaging(district=district)
        session.add(row)
    row.paused, row.reason, row.changed_at, row.changed_by = paused, reason, now, by
    session.flush()
    return row


def set_no_send_day(session: Session, district: str, day: dt.date, *, reason: str) -> NoSendDay:
    row = session.get(NoSendDay, (district, day))
    if row is None:
        row = NoSendDay(district=district, day=day, reason=reason)
        session.add(row)
    row.reason = reason
    session.flush()
    return row


def remove_no_send_day(session: Session, district: str, day: dt.date) -> bool:
    row = session.get(NoSendDay, (district, day))
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def no_send_days(session: Session, district: str, *, since: dt.date) -> list[NoSendDay]:
    return list(
        session.execute(
            select(NoSendDay)
            .where(NoSendDay.district == district, NoSendDay.day >= since)
            .order_by(NoSendDay.day)
        ).scalars()
    )
