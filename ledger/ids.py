"""Opaque, time-ordered identifiers for registry records (``pat_01JD8...``)."""

from __future__ import annotations

import os
import re
import time

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32


def new_id(prefix: str) -> str:
    """A ULID-shaped id: 48 bits of milliseconds then 80 random bits, in base 32."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return f"{prefix}_{''.join(reversed(chars))}"


_WELL_FORMED = re.compile(r"[A-Za-z0-9_-]{1,32}", re.ASCII)


def is_well_formed(text: str) -> bool:
    """Whether ``text`` could be one of our ids: ASCII letters, digits, ``_`` and ``-``, at most
    32 of them (the id columns' width). Anything else a caller sends as an id (full-width or
    superscript digits, a NUL, which PostgreSQL refuses outright, a megabyte) names nothing, and
    is answered as a missing record without reaching the database."""
    return _WELL_FORMED.fullmatch(text) is not None
