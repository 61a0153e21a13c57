"""The channel seam: how a text leaves the service.

``console`` (the default) prints each text and remembers it; ``twilio`` (``notifications.twilio``)
sends it with the official SDK. The outbox only sees this Protocol, so tests swap the
channel, not patch it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import sys
from dataclasses import dataclass, field
from typing import Protocol, TextIO

__all__ = [
    "Channel",
    "ConsoleChannel",
    "Outgoing",
    "PermanentFailure",
    "Sent",
    "TransientFailure",
    "UncertainFailure",
    "mask_phone",
]


@dataclass(frozen=True)
class Outgoing:
    """A text to send. ``redacted`` is the body with the patient's name masked, for logs."""

    message_id: str
    to: str
    body: str
    redacted: str
    status_callback: str | None = None


@dataclass(frozen=True)
class Sent:
    sid: str
    sender: str | None = None
    status: str = "sent"


class PermanentFailure(Exception):
    """Raised when the channel refuses a text for good (an invalid or landline number)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class TransientFailure(Exception):
    """Raised when the channel did not take the text but may later (429, 5xx)."""

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code


class UncertainFailure(Exception):
    """Raised when it is unknown whether the text left (a timeout after the request went)."""


class Channel(Protocol):
    name: str

    def send(self, outgoing: Outgoing) -> Sent:
        """Hand the text over; raise one of the failures above when it was not taken."""
        ...

    def find(self, *, to: str, body: str, since: dt.datetime) -> Sent | None:
        """The text sent to ``to`` with ``body`` since ``since``, if the channel has it."""
        ...


def mask_phone(e164: str) -> str:
    """``+82 10-****-5678``: enough to tell texts apart, not enough to call anyone."""
    return f"{e164[:3]} {e164[3:5]}-****-{e164[-4:]}" if len(e164) >= 9 else "****"


@dataclass
class ConsoleChannel:
    """Prints each text (number and name masked) and remembers it, in order."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    sent: list[tuple[Outgoing, dt.datetime]] = field(default_factory=list)
    name: str = "console"
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def send(self, outgoing: Outgoing) -> Sent:
        sid = f"console-{next(self._ids)}"
        self.sent.append((outgoing, dt.datetime.now(dt.UTC)))
        print(f"[문자 {sid} → {mask_phone(outgoing.to)}] {outgoing.redacted}", file=self.out)
        return Sent(sid=sid, sender="console")

    def find(self, *, to: str, body: str, since: dt.datetime) -> Sent | None:
        for number, (outgoing, at) in enumerate(self.sent):
            if outgoing.to == to and outgoing.body == body and at >= since:
                return Sent(sid=f"console-{number}", sender="console")
        return None
