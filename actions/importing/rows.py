"""One row of each kind of file, imported through the action a person would use for it.

A clinic row registers the clinic (and ends its participation when it ended), a patient row
registers the patient (booking the enrolment awards), an event row records the visit or the
attendance (creating the old system's education session on its first attendance), and a
balance row migrates the patient's balance. Each goes through :mod:`actions` under the
caller's system context, so it is audited, and an imported visit with a follow-up queues its
reminder, exactly as over HTTP; events are replayed with the late-entry window lifted, since
history is old by nature. Every function takes the session first and flushes, never commits.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, Protocol

from sqlalchemy.orm import Session

from actions import earning, migration, patients, registry
from actions.context import Context
from actions.importing import bookkeeping, cells
from actions.importing.cells import Row
from actions.importing.files import Difference, FileKind
from ledger.models import ImportRow, Patient, Transaction
from ledger.programme import Readings
from ledger.records import MigrationRecord, read_record
from ledger.services.clinics import get_clinic
from ledger.services.earning import Recorded, get_session
from ledger.services.events import late_entry_window
from ledger.services.registry import get_patient

__all__ = [
    "IMPORTERS",
    "Importer",
    "RowImported",
    "import_balance",
    "import_clinic",
    "import_event",
    "import_patient",
]

# History is replayed whatever its age: a window of a century covers the programme's.
HISTORY_WINDOW_DAYS = 36_600


@dataclass(frozen=True)
class RowImported:
    """What importing one row did: imported now, or found imported before (nothing booked)."""

    status: Literal["imported", "already_imported"]
    record_id: str | None = None
    difference: Difference | None = None


ALREADY = RowImported("already_imported")


class Importer(Protocol):
    def __call__(self, session: Session, ctx: Context, row: Row) -> RowImported: ...


def import_clinic(session: Session, ctx: Context, row: Row) -> RowImported:
    """Register a clinic of the old system (and end its participation if it ended)."""
    legacy_id, digest = bookkeeping.identify("clinics", row)
    if bookkeeping.imported_before(session, "clinic", legacy_id, digest) is not None:
        return ALREADY
    name = cells.text(row, "name", max_length=200)
    kind = cells.choice(row, "kind", cells.CLINIC_KINDS)
    district = cells.district(session, cells.required(row, "district"))
    since = cells.date(row, "participating_since")
    until = cells.optional_date(row, "participating_until")
    clinic = registry.register_clinic(
        session, ctx, name=name, kind=kind, district=district, participating_since=since
    )
    if until is not None:
        registry.clinic_leaves(session, ctx, clinic, on=until)
    bookkeeping.remember(session, "clinic", legacy_id, record_id=clinic.id)
    return RowImported("imported", clinic.id)


def import_patient(session: Session, ctx: Context, row: Row) -> RowImported:
    """Register a patient of the old system at their clinic, booking the enrolment awards."""
    legacy_id, digest = bookkeeping.identify("patients", row)
    if bookkeeping.imported_before(session, "patient", legacy_id, digest) is not None:
        return ALREADY
    clinic_id = bookkeeping.our_id(session, "clinic", cells.required(row, "clinic_legacy_id"))
    with _replaying():
        registered = patients.register_patient(
            session,
            ctx,
            clinic_id=clinic_id,
            name=cells.text(row, "name", max_length=100),
            birth_date=cells.date(row, "birth_date"),
            phone=cells.required(row, "phone"),
            conditions=cells.conditions(row, "conditions"),
            sms_consent=cells.flag(row, "sms_consent"),
            enrolled_on=cells.date(row, "enrolled_on"),
        )
    patient_id = registered.patient.id
    bookkeeping.remember(
        session,
        "patient",
        legacy_id,
        record_id=patient_id,
        transaction_id=registered.transaction_id,
    )
    return RowImported("imported", patient_id)


def import_event(session: Session, ctx: Context, row: Row) -> RowImported:
    """Replay a visit or an education attendance of the old system through today's rules."""
    kind = cells.choice(row, "type", cells.EVENT_TYPES)
    legacy_id, digest = bookkeeping.identify("events", row)
    if bookkeeping.imported_before(session, kind, legacy_id, digest) is not None:
        return ALREADY
    patient_id = bookkeeping.our_id(session, "patient", cells.required(row, "patient_legacy_id"))
    patient = get_patient(session, patient_id)
    with _replaying():
        if kind == "visit":
            recorded = _visit(session, ctx, row, patient)
        else:
            education = get_session(session, _education_session(session, ctx, row, patient))
            recorded = earning.record_attendance(session, ctx, education, patient)
    bookkeeping.remember(
        session,
        kind,
        legacy_id,
        record_id=recorded.id,
        transaction_id=recorded.transaction_id,
    )
    return RowImported("imported", recorded.id)


def import_balance(session: Session, ctx: Context, row: Row) -> RowImported:
    """Bring a patient to the balance the old system recorded at the cut-over date.

    The migration (:func:`actions.migration.migrate_balance`) books what the ledger does not
    already hold at that date; a patient's balance is migrated once. Where events were
    replayed and the replay differs from the record, the row reports the difference (again
    when the row is imported again, from the migration transaction, so the report does not
    depend on the run).
    """
    legacy_id, digest = bookkeeping.identify("balances", row)
    patient_legacy_id = cells.required(row, "patient_legacy_id")
    earlier = bookkeeping.imported_before(session, "balance", legacy_id, digest)
    if earlier is not None:
        return RowImported(
            "already_imported", earlier.record_id, _reported(session, earlier, patient_legacy_id)
        )
    patient = get_patient(
        session, bookkeeping.our_id(session, "patient", patient_legacy_id), for_update=True
    )
    as_of = cells.date(row, "as_of")
    recorded = cells.amount(row, "balance")
    bookkeeping.ensure_not_migrated(session, patient)
    migrated = migration.migrate_balance(
        session, ctx, patient, as_of=as_of, recorded=recorded, legacy_id=legacy_id
    )
    bookkeeping.remember(
        session,
        "balance",
        legacy_id,
        record_id=patient.id,
        transaction_id=migrated.transaction_id,
    )
    difference = None
    if migrated.replayed_events and migrated.transaction_id is not None:
        difference = Difference(
            patient_legacy_id,
            patient.id,
            as_of,
            migrated.recorded,
            migrated.replayed,
            migrated.transaction_id,
        )
    return RowImported("imported", patient.id, difference)


IMPORTERS: Mapping[FileKind, Importer] = {
    "clinics": import_clinic,
    "patients": import_patient,
    "events": import_event,
    "balances": import_balance,
}


@contextmanager
def _replaying() -> Iterator[None]:
    """Events of any age are accepted: the late-entry window is for live entry."""
    with late_entry_window(HISTORY_WINDOW_DAYS):
        yield


def _visit(session: Session, ctx: Context, row: Row, patient: Patient) -> Recorded:
    """A treatment visit, with the follow-up the old system booked (its reminder carries over)."""
    return earning.record_visit(
        session,
        ctx,
        patient,
        clinic_id=bookkeeping.our_id(session, "clinic", cells.required(row, "clinic_legacy_id")),
        visited_on=cells.date(row, "date"),
        readings=Readings(
            systolic=cells.optional_int(row, "systolic"),
            diastolic=cells.optional_int(row, "diastolic"),
            hba1c=cells.optional_decimal(row, "hba1c"),
            fasting_glucose=cells.optional_int(row, "fasting_glucose"),
        ),
        next_visit_on=cells.optional_date(row, "next_visit_on"),
    )


def _education_session(session: Session, ctx: Context, row: Row, patient: Patient) -> str:
    """Our id of the row's education session, created when its first attendance comes in.

    The old system's session is one row of ``import_rows`` (kind ``session``); attendances
    that describe it differently (date, condition, title, clinic) are refused.
    """
    legacy_id = cells.required(row, "session_legacy_id")
    held_on = cells.date(row, "date")
    condition = cells.choice(row, "condition", cells.CONDITIONS)
    title = (row.get("title", "") or f"session {legacy_id}")[:200]
    clinic_legacy_id = row.get("clinic_legacy_id", "")
    digest = bookkeeping.digest(
        {
            "date": held_on.isoformat(),
            "condition": condition,
            "title": title,
            "clinic_legacy_id": clinic_legacy_id,
        }
    )
    if bookkeeping.imported_before(session, "session", legacy_id, digest) is not None:
        return bookkeeping.our_id(session, "session", legacy_id)
    clinic_id = (
        bookkeeping.our_id(session, "clinic", clinic_legacy_id) if clinic_legacy_id else None
    )
    district = (
        get_clinic(session, clinic_id).district if clinic_id is not None else patient.district
    )
    created = earning.create_education_session(
        session,
        ctx,
        held_on=held_on,
        condition=condition,
        title=title,
        district=district,
        clinic_id=clinic_id,
    )
    bookkeeping.remember(session, "session", legacy_id, record_id=created.id)
    return created.id


def _reported(session: Session, row: ImportRow, patient_legacy_id: str) -> Difference | None:
    """The difference a balance row reported when it was imported, read back from its booking."""
    if row.transaction_id is None or row.record_id is None:
        return None
    booked = session.get(Transaction, row.transaction_id)
    record = read_record((booked.details or {}).get("meta")) if booked is not None else None
    if booked is None or not isinstance(record, MigrationRecord) or not record.replayed_events:
        return None
    return Difference(
        patient_legacy_id,
        row.record_id,
        booked.effective_date,
        record.recorded,
        record.replayed,
        booked.id,
    )
