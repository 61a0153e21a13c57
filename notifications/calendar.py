"""When texts may go out: the daytime window on sending days, in Asia/Seoul.

A sending day is not a Sunday, not a Korean public holiday (``holidays``, lunar ones such as
설날 and 추석 included) and not one of the district's own no-send days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

import holidays

from ledger.clock import SEOUL
from ledger.settings import Settings

__all__ = ["SendingCalendar"]

KOREAN_HOLIDAYS = holidays.country_holidays("KR")


@dataclass(frozen=True)
class SendingCalendar:
    start_hour: int = 9
    end_hour: int = 20

    @classmethod
    def from_settings(cls, settings: Settings) -> SendingCalendar:
        """The window ``MILEAGE_SEND_WINDOW_START`` and ``_END`` set."""
        return cls(settings.send_window_start, settings.send_window_end)

    def is_sending_day(self, day: dt.date, no_send: Collection[dt.date] = ()) -> bool:
        return day.weekday() != 6 and day not in KOREAN_HOLIDAYS and day not in no_send

    def opens(self, day: dt.date) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(self.start_hour), SEOUL)

    def closes(self, day: dt.date) -> dt.datetime:
        if self.end_hour == 24:
            return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), SEOUL)
        return dt.datetime.combine(day, dt.time(self.end_hour), SEOUL)

    def last_sending_day_before(self, day: dt.date, no_send: Collection[dt.date] = ()) -> dt.date:
        candidate = day - dt.timedelta(days=1)
        while not self.is_sending_day(candidate, no_send):
            candidate -= dt.timedelta(days=1)
        return candidate

    def open_now(self, moment: dt.datetime, no_send: Collection[dt.date] = ()) -> bool:
        local = moment.astimezone(SEOUL)
        return self.is_sending_day(local.date(), no_send) and self.opens(
            local.date()
        ) <= local < self.closes(local.date())

    def next_opening(self, moment: dt.datetime, no_send: Collection[dt.date] = ()) -> dt.datetime:
        """``moment`` itself when the window is open, else when it next opens."""
        if self.open_now(moment, no_send):
            return moment
        day = moment.astimezone(SEOUL).date()
        if self.is_sending_day(day, no_send) and moment < self.opens(day):
            return self.opens(day)
        day += dt.timedelta(days=1)
        while not self.is_sending_day(day, no_send):
            day += dt.timedelta(days=1)
        return self.opens(day)
