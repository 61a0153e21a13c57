"""Stored answers of idempotent requests: what they keep, for how long, and what a repeat shows.

A POST's answer is stored so that a repeat gets it again (``ledger.services.idempotency``).
An answer that shows a patient (registration, a move, leaving) holds their name, birth date
and phone, always beside the patient's ``id``. Those personal fields go:

- from every stored answer once it is older than the retention period
  (``MILEAGE_IDEMPOTENCY_RETENTION_DAYS``, 30 by default): the daily job runs
  ``scrub_expired``;
- at once from every answer about a patient who is erased (``scrub_patient``).

A scrubbed answer keeps its status and the rest of its body, the ids it created included, so
a repeat still answers as the first request did, minus the personal fields, and books
nothing. ``narrowed`` cuts a replay further, when it is sent, to what the caller may read
then: a patient who moved away from the caller's clinic shows only their ids.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.errors import DuplicatePatient
from ledger.models import IdempotentRequest

__all__ = [
    "ID_FIELDS",
    "PERSONAL_FIELDS",
    "narrowed",
    "scrub_expired",
    "scrub_patient",
    "without_personal_fields",
]

PERSONAL_FIELDS = ("name", "birth_date", "phone")
# What a patient shown to a caller who may no longer read them is cut to.
ID_FIELDS = ("id", "transaction_id")
PATIENT_ID_PREFIX = "pat_"
REDACTED = "○○○"


def without_personal_fields(text: str, *, patient_id: str | None = None) -> str | None:
    """The answer without the personal fields of the patients it shows (only of
    ``patient_id``, when given); None when there is nothing to remove or it is not JSON."""
    data = _parse(text)
    changed = False
    for shown in _patients(data):
        if patient_id is not None and shown["id"] != patient_id:
            continue
        for name in PERSONAL_FIELDS:
            if shown.get(name) is not None:
                shown[name] = None  # kept as a key: the answer keeps its shape
                changed = True
    return _dump(data) if changed else None


def narrowed(text: str, status: int, readable: Callable[[str], bool]) -> str:
    """A stored answer as its caller may see it now: each patient in a success whom the
    caller may no longer read (moved away, gone) is cut to their ids; a refusal that named
    an existing patient (``duplicate_patient``) loses the id the caller may no longer read."""
    data = _parse(text)
    if not 200 <= status < 300:
        named = data.get("id") if isinstance(data, dict) else None
        if isinstance(named, str) and named.startswith(PATIENT_ID_PREFIX) and not readable(named):
            del data["id"]
            data["detail"] = str(DuplicatePatient(None))  # as the refusal reads without it
            return _dump(data)
        return text
    changed = False
    for shown in _patients(data):
        if not readable(shown["id"]):
            for name in [n for n in shown if n not in ID_FIELDS]:
                del shown[name]
            changed = True
    return _dump(data) if changed else text


def scrub_expired(session: Session, *, before: dt.datetime, now: dt.datetime, limit: int) -> int:
    """Scrub up to ``limit`` answered requests made before ``before``; how many it took up
    (each is marked ``scrubbed_at``, with personal fields or not, and never read again)."""
    rows = (
        session.execute(
            select(IdempotentRequest)
            .where(
                IdempotentRequest.scrubbed_at.is_(None),
                IdempotentRequest.created_at < before,
                IdempotentRequest.status_code.is_not(None),
            )
            .order_by(IdempotentRequest.created_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        .scalars()
        .all()
    )
    for row in rows:
        scrubbed = without_personal_fields(row.response or "")
        if scrubbed is not None:
            row.response = scrubbed
        row.scrubbed_at = now
    session.flush()
    return len(rows)


def scrub_patient(
    session: Session, patient_id: str, *, forms: Iterable[str], now: dt.datetime
) -> int:
    """Remove one patient's personal fields from every stored answer that shows them, and
    any other spelling of them (``forms``: the name, the phone as written, the birth date)
    left in those answers' text; how many answers changed."""
    rows = (
        session.execute(
            select(IdempotentRequest).where(
                IdempotentRequest.response.contains(patient_id, autoescape=True)
            )
        )
        .scalars()
        .all()
    )
    # Longest first, so that no shorter form breaks a longer one before it is replaced.
    spellings = sorted({f for form in forms for f in (form, _escaped(form)) if f}, key=len)
    spellings.reverse()
    changed = 0
    for row in rows:
        text = row.response or ""
        scrubbed = without_personal_fields(text, patient_id=patient_id) or text
        for spelling in spellings:
            scrubbed = scrubbed.replace(spelling, REDACTED)
        if scrubbed != text:
            row.response, row.scrubbed_at = scrubbed, now
            changed += 1
    session.flush()
    return changed


def _patients(data: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object that shows a patient: one whose ``id`` is a patient's."""
    if isinstance(data, dict):
        shown = data.get("id")
        if isinstance(shown, str) and shown.startswith(PATIENT_ID_PREFIX):
            yield data
        for value in list(data.values()):
            yield from _patients(value)
    elif isinstance(data, list):
        for value in data:
            yield from _patients(value)


def _parse(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _dump(data: Any) -> str:
    # As Starlette's JSONResponse writes it, so a scrubbed answer looks like the first.
    return json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _escaped(form: str) -> str:
    """``form`` as an ASCII-only JSON encoder writes it inside a string."""
    return json.dumps(form)[1:-1]
