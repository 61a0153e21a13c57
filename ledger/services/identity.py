"""Recognising a person after their personal data was erased: a keyed hash of who they were.

An identity is the name (NFKC, format characters such as zero-width spaces dropped, runs
of white space collapsed to one space, case folded), the birth date (ISO 8601) and the
phone (E.164), joined by a separator no name holds. Its hash is HMAC-SHA256 under the
identity key, so an erasure record confirms no guess of who it was to anyone without the
key; an unkeyed hash of so small a space would be a lookup table away from the name.

The key is ``MILEAGE_IDENTITY_KEY`` when set: keep it outside the database (a secrets
manager, the service's environment), so that a stolen copy of the database holds the
hashes without the key. Unset, a random key is generated on the first erasure and kept in
``service_secrets`` (logged as ``ledger.identity.key_generated``): erasure works on a fresh
install, at the price of keeping the key beside the hashes. Setting the variable later loses
nothing: recognition tries every key the service has, new erasures use the configured one.
Changing a configured key does lose the erasures hashed under the old one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import clock
from ledger.models import Erasure, ServiceSecret
from ledger.repository.missing import insert_missing
from ledger.settings import get_settings
from ledger.text import normalise_name as stored_form

__all__ = ["erased_before", "identity_hash", "normalise_name", "signing_key"]

log = logging.getLogger("ledger.identity")

KEY_NAME = "identity_key"
SEPARATOR = "\x1f"  # ASCII unit separator: never part of a name, a date or a phone


def normalise_name(name: str) -> str:
    """A name as identity compares it: the form names are stored in, case folded."""
    return stored_form(name).casefold()


def identity_hash(key: bytes, *, name: str, birth_date: dt.date, phone: str) -> str:
    """HMAC-SHA256 (hex) of the normalised identity; ``phone`` is already E.164."""
    identity = SEPARATOR.join((normalise_name(name), birth_date.isoformat(), phone))
    return hmac.new(key, identity.encode(), hashlib.sha256).hexdigest()


def signing_key(session: Session) -> bytes:
    """The key new erasures are hashed under: the configured one, else the stored one,
    generated on first need (race-free: two first erasures keep the same key)."""
    configured = _configured()
    if configured is not None:
        return configured
    stored = _stored(session)
    if stored is not None:
        return stored
    insert_missing(
        session, ServiceSecret, name=KEY_NAME, value=secrets.token_hex(32), created_at=clock.now()
    )
    # MILEAGE_IDENTITY_KEY is unset: say so once, where operators look.
    log.warning("ledger.identity.key_generated")
    generated = _stored(session)
    assert generated is not None, "the identity key was stored a moment ago"
    return generated


def erased_before(session: Session, *, name: str, birth_date: dt.date, phone: str) -> bool:
    """Whether a patient with this identity (``phone`` in E.164) was erased before."""
    keys = [key for key in (_configured(), _stored(session)) if key is not None]
    if not keys:  # no key yet: nobody was ever erased
        return False
    hashes = {identity_hash(k, name=name, birth_date=birth_date, phone=phone) for k in keys}
    found = session.execute(
        select(Erasure.id).where(Erasure.identity_hash.in_(hashes)).limit(1)
    ).first()
    return found is not None


def _configured() -> bytes | None:
    secret = get_settings().identity_key
    return None if secret is None else secret.get_secret_value().encode()


def _stored(session: Session) -> bytes | None:
    value = session.execute(
        select(ServiceSecret.value).where(ServiceSecret.name == KEY_NAME)
    ).scalar()
    return None if value is None else bytes.fromhex(value)
