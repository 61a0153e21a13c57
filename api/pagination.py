"""Opaque cursors over lists ordered by a unique key."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import TypeVar

from api.errors import InvalidRequest

T = TypeVar("T")


def decode(cursor: str | None) -> str | None:
    if cursor is None:
        return None
    try:
        return base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise InvalidRequest(
            "the cursor is not one this service gave out", field="cursor"
        ) from error


def next_cursor(rows: Sequence[T], limit: int, key: Callable[[T], str]) -> str | None:
    """A cursor after the last row when the page is full (rows were fetched with limit+1)."""
    if len(rows) <= limit:
        return None
    return base64.urlsafe_b64encode(key(rows[limit - 1]).encode()).decode()


def decode_number(cursor: str | None) -> int | None:
    """A cursor over a numbered list (the audit trail): the number it holds."""
    before = decode(cursor)
    if before is None:
        return None
    if not (before.isascii() and before.isdigit()):
        raise InvalidRequest("the cursor is not one this service gave out", field="cursor")
    return int(before)
