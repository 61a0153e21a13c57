"""Keyed hashes of whom a request searched for: the audit trail shows repeated probes of one
person without holding their name, birth date or phone.

A look-up's audit row keeps ``HMAC-SHA256(key, name ␟ birth date ␟ phone)`` of the
identity as the registry normalises it (the name as compared, the phone as E.164), so the
same person searched for twice, in any spelling the registry reads alike, gives the same
hash, and another person another. Without the key a hash cannot be tested against a guess.

The key is ``MILEAGE_AUDIT_KEY`` when it is set (at least 32 characters, from a secret
store; set the same on every host that serves). Unset, it is read from
``MILEAGE_AUDIT_KEY_FILE`` (``var/audit.key``), which the first process that needs it
creates: 32 random bytes, readable by its owner only, put in place by an atomic link so that
processes starting together agree on one key. The key is kept out of the database on
purpose: a copy of the database (a backup, a replica) then holds hashes it cannot test guesses
against, the additional information kept apart as pseudonymisation under PIPA asks. Back the
key up apart from the database; with a new key, new hashes no longer match old ones.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import secrets
import threading
from pathlib import Path

from pydantic import SecretStr

__all__ = ["KeyFileError", "Pseudonyms"]

KEY_BYTES = 32


class KeyFileError(RuntimeError):
    """Raised when the audit key file exists but does not hold a key."""


class Pseudonyms:
    """Keyed hashes under one key, read (or made) on first use."""

    def __init__(self, key: SecretStr | None, key_file: Path) -> None:
        self._given = key
        self._file = key_file
        self._key: bytes | None = None
        self._guard = threading.Lock()

    def key(self) -> bytes:
        with self._guard:
            if self._key is None:
                given = self._given.get_secret_value() if self._given else None
                self._key = given.encode() if given else _read_or_make(self._file)
            return self._key

    def request(self, text: str) -> str:
        """The hash of a request (its target and body), by which a repeat is recognised: keyed,
        because a body can hold a name, birth date and phone, and a plain hash of so small a
        space would name them to whoever holds the table."""
        purpose_key = hmac.new(self.key(), b"idempotent request", hashlib.sha256).digest()
        return hmac.new(purpose_key, text.encode(), hashlib.sha256).hexdigest()

    def person(self, *, name: str, birth_date: dt.date, phone: str) -> str:
        """The hash of a person named by their normalised name, birth date and E.164 phone."""
        identity = "\x1f".join((name, birth_date.isoformat(), phone))
        return hmac.new(self.key(), identity.encode(), hashlib.sha256).hexdigest()


def _read_or_make(path: Path) -> bytes:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w") as out:
                out.write(secrets.token_hex(KEY_BYTES) + "\n")
                out.flush()
                os.fsync(out.fileno())
            # A link does not replace: of processes starting together, the first one's key
            # is the key.
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink()
    try:
        key = bytes.fromhex(path.read_text().strip())
    except ValueError:
        key = b""
    if len(key) < KEY_BYTES // 2:
        raise KeyFileError(
            f"{path} does not hold an audit key (hex, {KEY_BYTES} bytes); restore it from its "
            "backup, or remove it to start a new key"
        )
    return key
