"""The set-based recall scan queues exactly what the per-patient scan it replaced would.

The per-patient logic (every active patient, their last visits and recalls loaded into
Python) is kept here, and only here, as the reference. A seeded population is built through
the services: follow-ups missed and kept, gaps with nothing booked, one to three earlier
recalls at various intervals (some cancelled, some from before the last visit), lost
patients, patients without consent, patients who left, and a district that stopped taking
part. Then, morning after morning, the reference's prediction is compared with what the
scan queued, in chunks, and with the message report's view of who is overdue or lost.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from ledger.clock import SEOUL
from ledger.db import session_scope
from ledger.models import District, Message, Patient, Visit
from ledger.programme import Readings
from ledger.services.earning import record_visit
from ledger.services.registry import leave_programme, update_patient
from ledger.vocabulary import MessageKind, MessageStatus, PatientStatus
from notifications.calendar import SendingCalendar
from notifications.outbox import cancel_for_patient, queue_recall
from notifications.recalls import (
    LOST_AFTER,
    MAX_RECALLS,
    MISSED_GRACE,
    RECALL_INTERVAL,
    UNBOOKED_GAP,
    overdue_patients,
    scan_recalls,
)
from tests.factories import make_clinic, make_patient

CALENDAR = SendingCalendar()
FIRST_MORNING = dt.date(2025, 9, 1)
TAKING_PART = ("11740", "11590")
STOPS_TAKING_PART = "11140"


# --- the reference: the per-patient scan as it was before the set-based one --------------


@dataclass(frozen=True)
class Owed:
    patient_id: str
    due: dt.date | None
    sequence: int
    lost: bool


def _reference_last_visits(session: Session) -> dict[str, tuple[dt.date, dt.date | None]]:
    latest_days = (
        select(Visit.patient_id, func.max(Visit.visited_on).label("day"))
        .group_by(Visit.patient_id)
        .subquery()
    )
    query = (
        select(Visit.patient_id, Visit.visited_on, func.max(Visit.next_visit_on))
        .join(
            latest_days,
            (latest_days.c.patient_id == Visit.patient_id)
            & (latest_days.c.day == Visit.visited_on),
        )
        .group_by(Visit.patient_id, Visit.visited_on)
    )
    return {pid: (day, booked) for pid, day, booked in session.execute(query)}


def _reference_recalls(session: Session) -> dict[str, list[tuple[dt.date, dt.date]]]:
    query = select(Message.patient_id, Message.due_date, Message.created_at).where(
        Message.kind == MessageKind.RECALL, Message.status != MessageStatus.CANCELLED
    )
    found: dict[str, list[tuple[dt.date, dt.date]]] = {}
    for pid, due, created in session.execute(query.order_by(Message.due_date)):
        found.setdefault(pid, []).append((due, created.astimezone(SEOUL).date()))
    return found


def _reference_standing(
    patient: Patient,
    last: dt.date | None,
    booked: dt.date | None,
    recalls: list[tuple[dt.date, dt.date]],
    today: dt.date,
) -> Owed | None:
    base = last or patient.enrolled_on
    if today - base > LOST_AFTER:
        return Owed(patient.id, None, 0, lost=True)
    first_due = booked + MISSED_GRACE if booked else base + UNBOOKED_GAP
    if first_due > today:
        return None
    sent = [r for r in recalls if r[0] > base]
    if len(sent) >= MAX_RECALLS:
        return Owed(patient.id, None, len(sent), lost=False)
    due = max(sent[-1]) + RECALL_INTERVAL if sent else first_due
    return Owed(patient.id, due if due <= today else None, len(sent) + 1, lost=False)


def reference_overdue(session: Session, today: dt.date) -> set[Owed]:
    """Who the old scan found overdue or lost: every active patient, one by one."""
    patients = session.execute(
        select(Patient).where(Patient.status == PatientStatus.ACTIVE).order_by(Patient.id)
    ).scalars()
    participating = set(
        session.execute(select(District.code).where(District.participating.is_(True))).scalars()
    )
    visits, recalls = _reference_last_visits(session), _reference_recalls(session)
    found = set()
    for patient in patients:
        if patient.district not in participating:
            continue
        last, booked = visits.get(patient.id, (None, None))
        owed = _reference_standing(patient, last, booked, recalls.get(patient.id, []), today)
        if owed is not None:
            found.add(owed)
    return found


def reference_recalls(session: Session, today: dt.date) -> set[tuple[str, dt.date, int]]:
    """What the old scan queued: the recalls owed, to consenting active patients."""
    consenting = set(
        session.execute(select(Patient.id).where(Patient.sms_consent.is_(True))).scalars()
    )
    return {
        (o.patient_id, o.due, o.sequence)
        for o in reference_overdue(session, today)
        if o.due is not None and not o.lost and o.patient_id in consenting
    }


# --- a seeded population, built through the services ------------------------------------


def morning(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(6), SEOUL)


def build_population(session: Session, rng: random.Random, size: int) -> None:
    clinics = {d: make_clinic(session, district=d) for d in (*TAKING_PART, STOPS_TAKING_PART)}
    for _ in range(size):
        district = rng.choice([*TAKING_PART, *TAKING_PART, STOPS_TAKING_PART])
        enrolled = FIRST_MORNING - dt.timedelta(days=rng.randint(20, 520))
        patient = make_patient(session, clinics[district], enrolled_on=enrolled).patient
        visit_days = sorted(
            {
                enrolled + dt.timedelta(days=rng.randint(0, (FIRST_MORNING - enrolled).days - 1))
                for _ in range(rng.choice([0, 0, 1, 1, 2, 3]))
            }
        )
        for day in visit_days:
            follow_up = None
            if rng.random() < 0.6:
                follow_up = day + dt.timedelta(days=rng.randint(7, 120))
            # now and then two visits the same day, only one with a follow-up booked
            for booked in [follow_up, None] if rng.random() < 0.1 else [follow_up]:
                record_visit(
                    session,
                    patient_id=patient.id,
                    clinic_id=clinics[district].id,
                    visited_on=day,
                    readings=Readings(None, None, None, None),
                    recorded_by="test",
                    next_visit_on=booked,
                    today=day,
                )
        base = visit_days[-1] if visit_days else enrolled
        # earlier recalls: some from before the last visit, some since, 1-3 of them, at
        # intervals around the 14 days, queued on their due day or a few days late
        due = base - dt.timedelta(days=rng.randint(10, 60))
        for _ in range(rng.choice([0, 0, 1, 2, 3, 4])):
            queued = due + dt.timedelta(days=rng.choice([0, 0, 1, 5]))
            if queued >= FIRST_MORNING:
                break
            queue_recall(
                session,
                patient=patient,
                clinic_id=patient.clinic_id,
                due=due,
                sequence=1,
                now=morning(queued),
                calendar=CALENDAR,
            )
            due = max(due, queued) + dt.timedelta(days=rng.choice([10, 13, 14, 15, 30]))
            if due <= base < due + dt.timedelta(days=40):
                # on the day of the last visit itself now and then: it is not "since"
                due = base + dt.timedelta(days=rng.choice([0, 0, rng.randint(1, 40)]))
        fate = rng.random()
        if fate < 0.08:
            cancel_for_patient(session, patient.id, reason="test", now=morning(FIRST_MORNING))
        elif fate < 0.16:
            update_patient(session, patient_id=patient.id, recorded_by="test", sms_consent=False)
        elif fate < 0.22:
            leave_programme(session, patient_id=patient.id, status="moved", on=FIRST_MORNING)
    session.flush()


def queued_at(session: Session, moment: dt.datetime) -> set[tuple[str, dt.date, int]]:
    rows = session.execute(
        select(Message.patient_id, Message.due_date, Message.sequence).where(
            Message.kind == MessageKind.RECALL, Message.created_at == moment
        )
    )
    return {(pid, due, sequence) for pid, due, sequence in rows}


def scan_in_chunks(
    sessions: sessionmaker[Session], day: dt.date, moment: dt.datetime, chunk: int
) -> int:
    queued, after = 0, None
    while True:
        with session_scope(sessions) as session:
            scan = scan_recalls(
                session,
                today=day,
                now=moment,
                calendar=CALENDAR,
                after=after,
                limit=chunk,
            )
        queued += scan.queued
        if scan.last is None:
            return queued
        after = scan.last


@pytest.mark.parametrize("seed", [12, 2025, 31])
def test_the_set_based_scan_queues_what_the_per_patient_scan_would(
    sessions: sessionmaker[Session], seed: int
) -> None:
    rng = random.Random(seed)
    with session_scope(sessions) as session:
        build_population(session, rng, size=100)
        session.execute(
            update(District).where(District.code == STOPS_TAKING_PART).values(participating=False)
        )
    try:
        owed_any = 0
        for day in (FIRST_MORNING + dt.timedelta(days=n) for n in range(0, 43, 3)):
            with session_scope(sessions) as session:
                expected = reference_recalls(session, day)
                standing = reference_overdue(session, day)
                found = {
                    Owed(o.patient.id, o.due, o.sequence, o.lost)
                    for o in overdue_patients(session, today=day)
                }
            assert found == standing, day

            # each seed's scans at a moment of their own: the module's database is shared
            moment = morning(day) + dt.timedelta(minutes=seed % 60)
            queued = scan_in_chunks(sessions, day, moment, chunk=rng.choice([3, 7, 200]))

            with session_scope(sessions) as session:
                assert queued_at(session, moment) == expected, day
            assert queued == len(expected)
            # once per patient and due date: a second run queues nothing more
            assert scan_in_chunks(sessions, day, moment, chunk=5) == 0
            owed_any += len(expected)
        assert owed_any > 20  # the population does exercise the rules
    finally:
        with session_scope(sessions) as session:
            session.execute(
                update(District)
                .where(District.code == STOPS_TAKING_PART)
                .values(participating=True)
            )
