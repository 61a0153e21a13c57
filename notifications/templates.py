"""Korean texts for reminders and recalls, in what Korean carriers accept.

Every character must be in KS X 1001 (EUC-KR's 2-byte set, 2,350 Hangul syllables) or be
printable ASCII; no emoji. Python's ``euc_kr`` codec also encodes the other 8,822 Hangul
syllables, as 8-byte sequences, so a successful encode proves nothing: each character is
checked for exactly 2 bytes. A name with a character outside the set is left out (the text
greets without it), never mangled. The whole text, with the carrier's ``[Web발신]`` line,
fits in 90 bytes: longer forms give way to shorter ones.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterator

from ledger.vocabulary import MessageKind

__all__ = [
    "CARRIER_PREFIX",
    "MAX_BYTES",
    "encodable",
    "render",
    "render_recall",
    "render_reminder",
    "sms_bytes",
]

CARRIER_PREFIX = "[Web발신]\n"
MAX_BYTES = 90
WEEKDAYS = "월화수목금토일"


def _char_ok(ch: str) -> bool:
    if " " <= ch <= "~":
        return True
    try:
        return len(ch.encode("euc_kr")) == 2
    except UnicodeEncodeError:
        return False


def encodable(text: str) -> bool:
    """Whether every character of ``text`` is printable ASCII or in KS X 1001."""
    return all(_char_ok(ch) for ch in text)


def sms_bytes(text: str) -> int:
    """The text's length on the wire, with the carrier's prefix, in EUC-KR bytes."""
    return len((CARRIER_PREFIX + text).encode("euc_kr"))


def _clean(value: str, limit: int) -> str | None:
    """A name as it may appear in a text: trimmed, one line, short, encodable; else None."""
    value = unicodedata.normalize("NFC", " ".join(value.split()))
    if not value or len(value) > limit or not encodable(value):
        return None
    return value


def _day(day: dt.date) -> str:
    return f"{day.month}월 {day.day}일({WEEKDAYS[day.weekday()]})"


def _first_fitting(candidates: Iterator[str]) -> str:
    last = ""
    for text in candidates:
        last = text
        if sms_bytes(text) <= MAX_BYTES:
            return text
    raise ValueError(f"no form of the text fits in {MAX_BYTES} bytes: {last!r}")


def _compose(name: str, clinic: str, *, place: str, message: str, balance: int) -> str:
    """The longest form that fits: greeting by name, the clinic, the message, the balance;
    the balance, then the clinic, then the name give way when the text is too long."""
    who, where = _clean(name, 10), _clean(clinic, 20)
    greetings = (f"{who}님, " if who else "안녕하세요. ", "안녕하세요. ", "")
    places = (f"{where}{place}" if where else "", "")
    tails = (f" 건강마일리지 {balance:,}점", "")
    return _first_fitting(f"{g}{p}{message}{t}" for g in greetings for p in places for t in tails)


def render_reminder(*, name: str, clinic: str, follow_up: dt.date, balance: int) -> str:
    """A reminder of a booked follow-up visit, sent the last sending day before it."""
    return _compose(
        name, clinic, place=" ", message=f"진료 예약일은 {_day(follow_up)}입니다.", balance=balance
    )


def render_recall(*, name: str, clinic: str, balance: int) -> str:
    """A recall for a patient overdue for follow-up."""
    return _compose(
        name,
        clinic,
        place="에서 ",
        message="혈압·당뇨 정기 진료를 받으실 때입니다.",
        balance=balance,
    )


def render(kind: str, *, name: str, clinic: str, due: dt.date, balance: int) -> str:
    """The text of a message of ``kind``: a reminder of the follow-up on ``due``, or a recall.

    Rendered when the text is queued (the preview its patient's clinic sees) and again when
    it is sent, with the balance and names of that moment.
    """
    if kind == MessageKind.REMINDER:
        return render_reminder(name=name, clinic=clinic, follow_up=due, balance=balance)
    return render_recall(name=name, clinic=clinic, balance=balance)
