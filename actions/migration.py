"""Carrying a patient's balance over from the previous system at the cut-over date."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.context import Context
from ledger.domain import AccountType, Transfer
from ledger.errors import BeforeEnrolment, FutureDate
from ledger.models import Attendance, EducationSession, Patient, Visit
from ledger.records import MigrationRecord, Tag
from ledger.services.booking import book
from ledger.services.clinics import district_account
from ledger.services.periods import period_for
from ledger.services.reading import balance
from ledger.vocabulary import Beneficiary, TransactionKind

__all__ = ["Migrated", "migrate_balance"]


@dataclass(frozen=True)
class Migrated:
    """A balance carried over: what was recorded, what the ledger held (``replayed``), and
    the ``migration`` transaction that made up the difference (None when there was none)."""

    transaction_id: int | None
    recorded: int
    replayed: int
    replayed_events: bool

    @property
    def difference(self) -> int:
        """What the migration credited the patient (negative: debited)."""
        return self.recorded - self.replayed


def migrate_balance(
    session: Session,
    ctx: Context,
    patient: Patient,
    *,
    as_of: dt.date,
    recorded: int,
    legacy_id: str,
) -> Migrated:
    """Bring ``patient`` to the balance the old system ``recorded`` at ``as_of``.

    What the ledger already holds at that date (the replayed enrolment and events) is
    subtracted and the rest booked as one ``migration`` transaction dated ``as_of``: debit
    the district's expense account, credit the patient (the other way when negative).
    """
    if as_of > ctx.today:
        raise FutureDate(f"{as_of} is after today ({ctx.today}, Asia/Seoul)", field="as_of")
    if as_of < patient.enrolled_on:
        raise BeforeEnrolment(
            f"{as_of} is before the patient's enrolment on {patient.enrolled_on}", field="as_of"
        )
    replayed = balance(session, patient.account_id, as_of=as_of)
    events = _has_events(session, patient.id, as_of)
    transaction_id = _book(
        session,
        patient,
        as_of=as_of,
        amount=recorded - replayed,
        record=MigrationRecord(
            patient=patient.id,
            legacy_id=legacy_id,
            recorded=recorded,
            replayed=replayed,
            replayed_events=events,
        ),
    )
    ctx.audit(session, "balance.migrate", f"patients/{patient.id}/balance", patient_id=patient.id)
    return Migrated(transaction_id, recorded, replayed, events)


def _book(
    session: Session, patient: Patient, *, as_of: dt.date, amount: int, record: MigrationRecord
) -> int | None:
    """Book ``amount`` to the patient from the district's expense (back to it if negative)."""
    if amount == 0:
        return None
    expense = district_account(session, patient.district, AccountType.DISTRICT_EXPENSE)
    debit, credit = (expense, patient.account_id) if amount > 0 else (patient.account_id, expense)
    booked = book(
        session,
        kind=TransactionKind.MIGRATION,
        effective_date=as_of,
        transfers=[
            Transfer(debit, credit, abs(amount), tag=str(Tag(Beneficiary.PATIENT, "migration")))
        ],
        district=patient.district,
        period=period_for(session, patient.district, as_of),
        record=record,
    )
    return booked.transaction_id


def _has_events(session: Session, patient_id: str, as_of: dt.date) -> bool:
    """Whether the patient has a visit or an attendance on or before ``as_of``."""
    visit = session.execute(
        select(Visit.id).where(Visit.patient_id == patient_id, Visit.visited_on <= as_of).limit(1)
    ).scalar()
    if visit is not None:
        return True
    attendance = session.execute(
        select(Attendance.id)
        .join(EducationSession, EducationSession.id == Attendance.session_id)
        .where(Attendance.patient_id == patient_id, EducationSession.held_on <= as_of)
        .limit(1)
    ).scalar()
    return attendance is not None
