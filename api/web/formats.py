"""How the console writes dates, times and amounts, in Korean: a date as ``2025. 3. 5.``, a
time of day in Seoul as ``2025. 3. 5. 14:05``, an amount as ``12,345 M``, a name on a receipt
partly masked as ``김*수``, a mobile number as ``010-1234-5678``. Registered as Jinja filters
(``date_ko``, ``datetime_ko``, ``mileage``, ``number``, ``masked_name``, ``phone_ko``) by
``api.web.render``."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import phonenumbers

__all__ = ["FILTERS", "date_ko", "datetime_ko", "masked_name", "mileage", "number", "phone_ko"]

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


def masked_name(name: str | None) -> str:
    """A name as Korean receipts print it: the first and last letters kept, the letters
    between masked (``김*수``, ``남궁**수``); a two-letter name keeps its first (``이*``)."""
    if not name:
        return "(삭제됨)"
    if len(name) <= 2:
        return name[0] + "*" * (len(name) - 1)
    return name[0] + "*" * (len(name) - 2) + name[-1]


def phone_ko(value: str | None) -> str:
    """A stored number (E.164) as Koreans write it (``010-1234-5678``); typed text as typed."""
    if not value:
        return ""
    try:
        number = phonenumbers.parse(value, "KR")
    except phonenumbers.NumberParseException:
        return value
    if not value.startswith("+") or not phonenumbers.is_valid_number(number):
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


FILTERS = {
    "date_ko": date_ko,
    "datetime_ko": datetime_ko,
    "mileage": mileage,
    "number": number,
    "masked_name": masked_name,
    "phone_ko": phone_ko,
}
