"""What each legacy id became: the ``import_rows`` table, which makes every row import once.

A row is remembered under its kind and the old system's id (``legacy_id``) with what it
became (our record, its transaction) and a hash of what the row said. A row found there with
the same hash was imported before and books nothing; one with a different hash is refused,
so a record is never silently changed by a second file. Rows that name another record (a
patient's clinic, an attendance's patient) find it here by its legacy id.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from actions.importing import cells
from actions.importing.cells import Row
from actions.importing.files import FILES, FileKind
from ledger.clock import now
from ledger.errors import ImportConflict, InvalidInput, NotFound, UnknownClinic, UnknownPatient
from ledger.models import ImportRow, Patient
from ledger.repository.missing import insert_missing

__all__ = [
    "LEGACY_ID_MAX",
    "digest",
    "ensure_not_migrated",
    "identify",
    "imported_before",
    "our_id",
    "remember",
]

LEGACY_ID_MAX = 64


def identify(kind: FileKind, row: Row) -> tuple[str, str]:
    """The row's legacy id and a hash of what it says (its kind's columns, trimmed)."""
    legacy_id = cells.required(row, "legacy_id")
    if len(legacy_id) > LEGACY_ID_MAX:
        raise InvalidInput(
            f"legacy_id is longer than {LEGACY_ID_MAX} characters", field="legacy_id"
        )
    spec = FILES[kind]
    content = {
        "file": kind,
        **{name: row.get(name, "") for name in spec.required + spec.optional},
        **{name: row[name] for name in spec.added if row.get(name)},
    }
    return legacy_id, digest(content)


def digest(content: Mapping[str, str]) -> str:
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def imported_before(session: Session, kind: str, legacy_id: str, digest: str) -> ImportRow | None:
    """This very row's earlier import, if any; a different row under its id is refused.

    A row not imported before is claimed for this transaction: its ``import_rows`` row is
    inserted now (without a record yet; :func:`remember` completes it). The same row
    imported twice at once is thus imported once: the twin's insert waits for this
    transaction, then finds the row imported (or claims it, if this one rolled back).
    """
    claimed = insert_missing(
        session, ImportRow, kind=kind, legacy_id=legacy_id, row_hash=digest, imported_at=now()
    )
    if claimed:
        return None
    found = session.get(ImportRow, (kind, legacy_id), populate_existing=True)
    assert found is not None, "the legacy id was claimed, so its row exists"
    if found.row_hash != digest:
        raise ImportConflict(
            f"{kind} legacy id {legacy_id!r} was imported on {found.imported_at:%Y-%m-%d} "
            f"(as {found.record_id}) from a row with different content; correct the record "
            "in the service, or give this row its own legacy id"
        )
    return found


def remember(
    session: Session,
    kind: str,
    legacy_id: str,
    *,
    record_id: str,
    transaction_id: int | None = None,
) -> None:
    """Record what the row ``legacy_id`` of ``kind`` (claimed by :func:`imported_before`)
    became, in the row's transaction."""
    session.execute(
        update(ImportRow)
        .where(ImportRow.kind == kind, ImportRow.legacy_id == legacy_id)
        .values(record_id=record_id, transaction_id=transaction_id)
    )


_MISSING: Mapping[str, type[NotFound]] = {
    "clinic": UnknownClinic,
    "patient": UnknownPatient,
}


def our_id(session: Session, kind: str, legacy_id: str) -> str:
    """Our id of the record the old system called ``legacy_id``; it must be imported first."""
    found = session.get(ImportRow, (kind, legacy_id))
    if found is None or found.record_id is None:
        raise _MISSING[kind](
            f"no {kind} was imported with legacy id {legacy_id!r}; import the {kind}s first"
        )
    return found.record_id


def ensure_not_migrated(session: Session, patient: Patient) -> None:
    """Refuse a second balance for a patient: a patient's balance is migrated once."""
    earlier = session.execute(
        select(ImportRow.legacy_id).where(
            ImportRow.kind == "balance", ImportRow.record_id == patient.id
        )
    ).scalar()
    if earlier is not None:
        raise ImportConflict(
            f"patient {patient.id} already has a balance imported (legacy id {earlier!r}); "
            "a patient's balance is migrated once"
        )
