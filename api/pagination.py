"""Opaque cursors over lists ordered by a unique key.

A cursor is the URL-safe base64 of the last key on a page. One a caller sends back is taken
only when it is exactly such a text (canonical base64, at most :data:`MAX_CURSOR` characters)
of a key shaped like the keys of that list; anything else is 422 ``invalid``, and no garbage
reaches a query (a NUL in a text parameter is an error on PostgreSQL).
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Sequence
from typing import TypeVar

from api.errors import InvalidRequest

__all__ = [
    "CLINICS",
    "DISTRICTS",
    "KEYS",
    "MESSAGES",
    "NUMBERS",
    "decode",
    "decode_number",
    "ids",
    "next_cursor",
]

T = TypeVar("T")

MAX_CURSOR = 200
DISTRICTS = re.compile(r"[0-9]{5}")
NUMBERS = re.compile(r"[0-9]{1,18}")


def ids(prefix: str) -> re.Pattern[str]:
    """The shape of the registry's ids of one kind (``ledger.ids.new_id``): ``cln_01JD8...``."""
    return re.compile(rf"{prefix}_[0-9A-Z]{{26}}")


CLINICS, KEYS, MESSAGES = ids("cln"), ids("key"), ids("msg")


def _refused() -> InvalidRequest:
    return InvalidRequest("the cursor is not one this service gave out", field="cursor")


def decode(cursor: str | None, shape: re.Pattern[str]) -> str | None:
    """The key a cursor holds, if the cursor is one this service could have given out."""
    if cursor is None:
        return None
    if len(cursor) > MAX_CURSOR or not cursor.isascii():
        raise _refused()
    try:
        raw = base64.b64decode(cursor, altchars=b"-_", validate=True)
        key = raw.decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise _refused() from error
    if base64.urlsafe_b64encode(raw).decode() != cursor or not shape.fullmatch(key):
        raise _refused()
    return key


def next_cursor(rows: Sequence[T], limit: int, key: Callable[[T], str]) -> str | None:
    """A cursor after the last row when the page is full (rows were fetched with limit+1)."""
    if len(rows) <= limit:
        return None
    return base64.urlsafe_b64encode(key(rows[limit - 1]).encode()).decode()


def decode_number(cursor: str | None) -> int | None:
    """A cursor over a numbered list (the audit trail): the number it holds."""
    before = decode(cursor, NUMBERS)
    return None if before is None else int(before)
