"""The time every programme rule reads: Asia/Seoul."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

SEOUL = ZoneInfo("Asia/Seoul")


def now() -> dt.datetime:
    return dt.datetime.now(SEOUL)


def today() -> dt.date:
    """Today's calendar date in Seoul."""
    return now().date()


def seoul_date(moment: dt.date | dt.datetime) -> dt.date:
    """The Seoul calendar day of a moment (a date is taken as already being one).

    A visit at 23:30 on 31 December in Seoul is 14:30 UTC that day and counts for that
    year; a naive datetime is refused, since its day cannot be known.
    """
    if not isinstance(moment, dt.datetime):
        return moment
    if moment.tzinfo is None:
        raise ValueError("a moment without an offset has no Seoul date")
    return moment.astimezone(SEOUL).date()
