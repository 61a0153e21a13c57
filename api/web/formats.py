"""How the console writes dates, times and amounts, in Korean: a date as ``2025. 3. 5.``, a
time of day in Seoul as ``2025. 3. 5. 14:05``, an amount as ``12,345 M``. Registered as Jinja
filters (``date_ko``, ``datetime_ko``, ``mileage``, ``number``) by ``api.web.render``."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

__all__ = ["FILTERS", "date_ko", "datetime_ko", "mileage", "number"]

SEOUL = ZoneInfo("Asia/Seoul")


def date_ko(value: date | datetime | None) -> str:
    """``2025. 3. 5.`` (a time is taken as its date in Seoul); nothing for no date."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(SEOUL).date() if value.tzinfo else value.date()
    return f"{value.year}. {value.month}. {value.day}."


def datetime_ko(value: datetime | None) -> str:
    """``2025. 3. 5. 14:05``, in Seoul's time."""
    if value is None:
        return ""
    local = value.astimezone(SEOUL) if value.tzinfo else value
    return f"{date_ko(local)} {local:%H:%M}"


def number(value: int | None) -> str:
    """An integer with thousands separators (``12,345``); nothing for no value."""
    return "" if value is None else f"{value:,}"


def mileage(value: int | None) -> str:
    """An amount of mileage: ``12,345 M`` (a negative amount keeps its sign: ``-3,000 M``)."""
    return "" if value is None else f"{value:,} M"


FILTERS = {"date_ko": date_ko, "datetime_ko": datetime_ko, "mileage": mileage, "number": number}
