"""The simulation's calendar: the days clinics open, and months counted as one number."""

from __future__ import annotations

import calendar as cal
import datetime as dt
import random

from ledger.simulation.people import KOREAN_HOLIDAYS

__all__ = ["Calendar", "month_index", "month_of"]


class Calendar:
    """Clinic days (not Sundays, not Korean public holidays), by month, computed once."""

    def __init__(self) -> None:
        self._months: dict[tuple[int, int], list[dt.date]] = {}

    def days(self, year: int, month: int) -> list[dt.date]:
        key = (year, month)
        if key not in self._months:
            last = cal.monthrange(year, month)[1]
            self._months[key] = [
                day
                for day in (dt.date(year, month, d) for d in range(1, last + 1))
                if day.weekday() != 6 and day not in KOREAN_HOLIDAYS
            ]
        return self._months[key]

    def pick(
        self, rng: random.Random, year: int, month: int, after: dt.date | None = None
    ) -> dt.date | None:
        """A random clinic day of the month, after ``after`` if given; None if there is none."""
        days = self.days(year, month)
        if after is not None:
            days = [d for d in days if d > after]
        return rng.choice(days) if days else None


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def month_of(index: int) -> tuple[int, int]:
    return index // 12, index % 12 + 1
