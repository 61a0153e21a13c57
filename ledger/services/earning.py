"""Earning: treatment visits and education attendance, each booked as one transaction.

An event is recorded whatever it earns; its awards (patient's and home clinic's) are booked
through the ledger's limits, so caps and frequency limits hold under concurrency.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger import clock
from ledger.domain import AccountType
from ledger.errors import AlreadyAttended, InvalidInput, UnknownSession
from ledger.ids import is_well_formed, new_id
from ledger.models import Attendance, EducationSession, Patient, Visit
from ledger.programme import (
    Award,
    AwardAccounts,
    Readings,
    awards_from,
    education_transfers,
    visit_transfers,
)
from ledger.records import AttendanceRecord, VisitRecord
from ledger.rules import RuleBook
from ledger.services.booking import Count, book
from ledger.services.clinics import district_account, ensure_participating, get_clinic, get_district
from ledger.services.events import check_event_date, rules_for
from ledger.services.periods import period_for
from ledger.services.reading import balance
from ledger.services.recall_due import refresh_recall_due
from ledger.services.registry import ensure_active, get_patient, home_clinic_on
from ledger.vocabulary import Condition, TransactionKind, values

__all__ = [
    "Recorded",
    "create_education_session",
    "recent_sessions",
    "record_attendance",
    "record_visit",
]

# A follow-up is booked for the coming months; one further out is a typing slip (9999-12-31),
# and its reminder and recalls would be computed from it for years.
LONGEST_FOLLOW_UP = dt.timedelta(days=366)


@dataclass(frozen=True)
class Recorded:
    """A recorded event: its id, the transaction of its awards, the awards, the balance."""

    id: str
    transaction_id: int
    awards: list[Award]
    balance: int


def record_visit(
    session: Session,
    *,
    patient_id: str,
    clinic_id: str,
    visited_on: dt.date | dt.datetime,
    readings: Readings,
    recorded_by: str,
    next_visit_on: dt.date | None = None,
    today: dt.date | None = None,
    rules: RuleBook | None = None,
) -> Recorded:
    """Record a treatment visit and book its awards; a timestamp counts on its Seoul date."""
    today = today or clock.today()
    visited_on = clock.seoul_date(visited_on)
    patient = _active_patient(session, patient_id)
    ruleset = rules_for(rules, visited_on, patient.district)
    check_event_date(visited_on, enrolled_on=patient.enrolled_on, rules=ruleset, today=today)
    if next_visit_on is not None and next_visit_on <= visited_on:
        raise InvalidInput("the next visit comes after this one", field="next_visit_on")
    if next_visit_on is not None and next_visit_on - visited_on > LONGEST_FOLLOW_UP:
        raise InvalidInput(
            "a follow-up is booked at most a year after the visit", field="next_visit_on"
        )
    clinic = get_clinic(session, clinic_id)
    ensure_participating(clinic, visited_on)
    home = home_clinic_on(session, patient, visited_on)
    visit_id = new_id("vis")
    booked = book(
        session,
        kind=TransactionKind.VISIT,
        effective_date=visited_on,
        transfers=visit_transfers(
            ruleset,
            day=visited_on,
            conditions=patient.conditions,
            readings=readings,
            accounts=_accounts(session, patient, home.earned_account_id),
        ),
        district=patient.district,
        period=period_for(session, patient.district, visited_on),
        record=VisitRecord(
            event_id=visit_id, patient=patient.id, clinic=home.id, rule_set=ruleset.label
        ),
        counts=[Count(clinic.district, clinic.id, "visits")],
    )
    session.add(
        Visit(
            id=visit_id,
            patient_id=patient.id,
            clinic_id=clinic.id,
            visited_on=visited_on,
            systolic=readings.systolic,
            diastolic=readings.diastolic,
            hba1c=readings.hba1c,
            fasting_glucose=readings.fasting_glucose,
            next_visit_on=next_visit_on,
            transaction_id=booked.transaction_id,
            recorded_by=recorded_by,
        )
    )
    refresh_recall_due(session, [patient.id])  # flushes the visit first
    return Recorded(
        visit_id,
        booked.transaction_id,
        awards_from(booked.outcomes),
        balance(session, patient.account_id),
    )


def create_education_session(
    session: Session,
    *,
    district: str,
    held_on: dt.date,
    condition: str,
    title: str,
    clinic_id: str | None = None,
) -> EducationSession:
    """An education class, held by the district's health centre or by one of its clinics."""
    get_district(session, district)
    if condition not in values(Condition):
        raise InvalidInput("condition is hypertension or diabetes", field="condition")
    if not title.strip():
        raise InvalidInput("a session needs a title", field="title")
    if clinic_id is not None and get_clinic(session, clinic_id).district != district:
        raise InvalidInput("the clinic is in another district", field="clinic_id")
    education = EducationSession(
        id=new_id("edu"),
        district=district,
        clinic_id=clinic_id,
        held_on=held_on,
        condition=condition,
        title=title.strip(),
    )
    session.add(education)
    session.flush()
    return education


def get_session(session: Session, session_id: str) -> EducationSession:
    if not is_well_formed(session_id):
        raise UnknownSession("no education session with that id")
    found = session.get(EducationSession, session_id)
    if found is None:
        raise UnknownSession(f"no education session {session_id!r}")
    return found


def recent_sessions(
    session: Session, *, district: str, since: dt.date, until: dt.date, limit: int = 50
) -> list[EducationSession]:
    """A district's education classes held from ``since`` to ``until`` (its health centre's
    and its clinics'), the latest first: the classes whose slips a clinic may record."""
    found = session.scalars(
        select(EducationSession)
        .where(
            EducationSession.district == district,
            EducationSession.held_on >= since,
            EducationSession.held_on <= until,
        )
        .order_by(EducationSession.held_on.desc(), EducationSession.id)
        .limit(limit)
    )
    return list(found)


def record_attendance(
    session: Session,
    *,
    session_id: str,
    patient_id: str,
    recorded_by: str,
    today: dt.date | None = None,
    rules: RuleBook | None = None,
) -> Recorded:
    """Record that a patient attended an education session and book its awards."""
    today = today or clock.today()
    education = get_session(session, session_id)
    patient = _active_patient(session, patient_id)
    day = education.held_on
    ruleset = rules_for(rules, day, patient.district)
    check_event_date(day, enrolled_on=patient.enrolled_on, rules=ruleset, today=today)
    already = session.execute(
        select(Attendance.id).where(
            Attendance.session_id == session_id, Attendance.patient_id == patient_id
        )
    ).scalar()
    if already is not None:
        raise AlreadyAttended(f"patient {patient_id} is already recorded at session {session_id}")
    home = home_clinic_on(session, patient, day)
    attendance_id = new_id("att")
    booked = book(
        session,
        kind=TransactionKind.EDUCATION,
        effective_date=day,
        transfers=education_transfers(
            ruleset,
            day=day,
            condition=education.condition,
            conditions=patient.conditions,
            accounts=_accounts(session, patient, home.earned_account_id),
        ),
        district=patient.district,
        period=period_for(session, patient.district, day),
        record=AttendanceRecord(
            event_id=attendance_id,
            session=session_id,
            patient=patient.id,
            clinic=home.id,
            rule_set=ruleset.label,
        ),
        # Counted where the district's report and the clinic's look: the session's district,
        # the patient's home clinic (moved with them, see ``registry.change_home_clinic``).
        counts=[Count(education.district, patient.clinic_id, "education")],
    )
    session.add(
        Attendance(
            id=attendance_id,
            session_id=session_id,
            patient_id=patient_id,
            transaction_id=booked.transaction_id,
            recorded_by=recorded_by,
        )
    )
    session.flush()
    return Recorded(
        attendance_id,
        booked.transaction_id,
        awards_from(booked.outcomes),
        balance(session, patient.account_id),
    )


def _active_patient(session: Session, patient_id: str) -> Patient:
    # Locking the patient row serialises a patient's events, so two visits recorded at
    # once are evaluated one after the other (the ledger's limits hold either way).
    patient = get_patient(session, patient_id, for_update=True)
    ensure_active(patient)
    return patient


def _accounts(session: Session, patient: Patient, clinic_account: int) -> AwardAccounts:
    return AwardAccounts(
        expense=district_account(session, patient.district, AccountType.DISTRICT_EXPENSE),
        patient=patient.account_id,
        clinic=clinic_account,
    )
