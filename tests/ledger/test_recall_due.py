"""Each patient's next recall date, kept on the patient row (``patients.recall_due_on``).

The daily scan reads only the patients whose kept date falls due (among those who may be
recalled: consent given, still in the programme), so the date must follow every write that
changes it, in the same transaction: registration, a visit and the follow-up booked at it,
recalls queued by the scan or cancelled; consent withdrawn and leaving take the patient out
of the scan's index. ``ledger verify`` works every date out again and names a wrong one; the
migration that added the column fills it for the patients already there.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, select, text, update
from sqlalchemy.orm import Session, sessionmaker

from api.cli import main
from ledger.db import session_scope
from ledger.migrate import upgrade
from ledger.models import Message, Patient
from ledger.programme import Readings
from ledger.services.earning import record_visit
from ledger.services.recall_due import refresh_recall_due
from ledger.services.registry import leave_programme, update_patient
from ledger.services.verify import verify
from notifications.outbox import cancel_for_patient
from tests.conftest import ENGINES
from tests.factories import make_clinic, make_patient
from tests.ledger.conftest import database_at
from tests.ledger.test_erasure_migration import ROWS
from tests.notifications.test_recall_scan import (
    FIRST_MORNING,
    build_population,
    morning,
    scan_in_chunks,
)

ENROLLED = dt.date(2025, 3, 3)


def kept(sessions: sessionmaker[Session], patient_id: str) -> dt.date | None:
    with sessions() as session:
        return session.execute(
            select(Patient.recall_due_on).where(Patient.id == patient_id)
        ).scalar_one()


def visit(
    session: Session, patient_id: str, clinic_id: str, day: dt.date, booked: dt.date | None
) -> None:
    record_visit(
        session,
        patient_id=patient_id,
        clinic_id=clinic_id,
        visited_on=day,
        readings=Readings(None, None, None, None),
        recorded_by="test",
        next_visit_on=booked,
        today=day,
    )


def recall_mismatches(session: Session, *patients: str) -> list[str]:
    """What ``ledger verify`` says of next recall dates (of these patients, if named; the
    module's tests share a database)."""
    found = [m for m in verify(session) if m.what == "next recall date"]
    return [str(m) for m in found if not patients or m.where.split()[-1] in patients]


def recalled(sessions: sessionmaker[Session], patient_id: str) -> list[dt.date]:
    with sessions() as session:
        query = select(Message.due_date).where(Message.patient_id == patient_id)
        return list(session.execute(query.order_by(Message.due_date)).scalars())


def test_the_date_follows_each_write_that_changes_it(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as session:
        clinic = make_clinic(session)
        patient = make_patient(session, clinic, enrolled_on=ENROLLED).patient.id
    assert kept(sessions, patient) == ENROLLED + dt.timedelta(days=35)  # nothing booked

    with session_scope(sessions) as session:
        visit(session, patient, clinic.id, dt.date(2025, 4, 1), booked=dt.date(2025, 5, 2))
    assert kept(sessions, patient) == dt.date(2025, 5, 5)  # the follow-up missed, 3 days on

    # Without consent the date stands, but the patient is out of the scan's index.
    with session_scope(sessions) as session:
        update_patient(session, patient_id=patient, recorded_by="test", sms_consent=False)
    assert kept(sessions, patient) == dt.date(2025, 5, 5)
    scan_in_chunks(sessions, dt.date(2025, 5, 5), morning(dt.date(2025, 5, 5)), chunk=200)
    assert recalled(sessions, patient) == []
    with session_scope(sessions) as session:
        update_patient(session, patient_id=patient, recorded_by="test", sms_consent=True)

    # Three scans, each recalling on the day it falls due; the next 14 days after each.
    days = [dt.date(2025, 5, 5), dt.date(2025, 5, 19), dt.date(2025, 6, 2)]
    for day in days:
        assert kept(sessions, patient) == day
        scan_in_chunks(sessions, day, morning(day), chunk=200)
    assert recalled(sessions, patient) == days
    assert kept(sessions, patient) is None  # three recalls since the visit: no more

    # The recalls, still queued (none sent), are cancelled: none counts any more, so the
    # first is owed again.
    with session_scope(sessions) as session:
        cancel_for_patient(session, patient, reason="test", now=morning(dt.date(2025, 6, 2)))
    assert kept(sessions, patient) == dt.date(2025, 5, 5)

    # Once left, the patient is out of the index: not recalled, though a recall is owed.
    with session_scope(sessions) as session:
        leave_programme(session, patient_id=patient, status="withdrawn", on=dt.date(2025, 6, 3))
    scan_in_chunks(sessions, dt.date(2025, 6, 4), morning(dt.date(2025, 6, 4)), chunk=200)
    assert recalled(sessions, patient) == days  # the three cancelled ones, nothing new
    with sessions() as session:
        assert recall_mismatches(session, patient) == []


def test_a_patient_lost_before_the_next_recall_falls_due_has_no_date(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        clinic = make_clinic(session)
        patient = make_patient(session, clinic, enrolled_on=ENROLLED).patient.id
        # a follow-up booked 11 months on: missed 3 days later, still within the year
        visit(session, patient, clinic.id, dt.date(2025, 4, 1), booked=dt.date(2026, 3, 1))
    assert kept(sessions, patient) == dt.date(2026, 3, 4)
    with session_scope(sessions) as session:
        session.execute(  # a follow-up the API would refuse: past the year, lost first
            text("UPDATE visits SET next_visit_on = '2026-03-30' WHERE patient_id = :p"),
            {"p": patient},
        )
        # the bad row is named until the date is worked out again
        assert len(recall_mismatches(session, patient)) == 1
        refresh_recall_due(session, [patient])
    assert kept(sessions, patient) is None


def test_the_scan_reads_by_the_kept_date(sessions: sessionmaker[Session]) -> None:
    """A patient overdue by the rules but whose kept date says later is not read today: the
    scan selects from the index of kept dates, not from every patient."""
    with session_scope(sessions) as session:
        clinic = make_clinic(session)
        ids = [make_patient(session, clinic, enrolled_on=ENROLLED).patient.id for _ in range(3)]
        session.execute(
            update(Patient).where(Patient.id == ids[0]).values(recall_due_on=dt.date(2025, 9, 1))
        )
    day = dt.date(2025, 4, 20)  # 48 days after enrolment, all three overdue by the rules
    scan_in_chunks(sessions, day, morning(day), chunk=1)
    assert [len(recalled(sessions, p)) for p in ids] == [0, 1, 1]
    with session_scope(sessions) as session:
        assert recall_mismatches(session, *ids) == [
            f"next recall date patient {ids[0]}: kept 2025-09-01, visits and recalls give "
            f"{ENROLLED + dt.timedelta(days=35)}"
        ]
        refresh_recall_due(session, [ids[0]])  # put right: the others share the database
    assert kept(sessions, ids[0]) == ENROLLED + dt.timedelta(days=35)


@pytest.mark.parametrize("seed", [7, 2026])
def test_after_every_kind_of_write_and_many_scans_no_date_is_wrong(
    sessions: sessionmaker[Session], seed: int
) -> None:
    """The recall scan's population (visits with and without follow-ups, earlier recalls
    at odd intervals, cancellations, consent withdrawn, leaving), then a scan every few
    mornings: ``ledger verify`` finds every kept date right at each step."""
    rng = random.Random(seed)
    with session_scope(sessions) as session:
        build_population(session, rng, size=60)
        assert recall_mismatches(session) == []
    queued = 0
    for day in (FIRST_MORNING + dt.timedelta(days=n) for n in range(0, 50, 4)):
        moment = morning(day) + dt.timedelta(minutes=seed % 60)
        queued += scan_in_chunks(sessions, day, moment, chunk=rng.choice([2, 9, 200]))
        with sessions() as session:
            assert recall_mismatches(session) == [], day
    assert queued > 10


def test_ledger_verify_names_a_wrong_recall_date(
    command_line: CliRunner, sessions: sessionmaker[Session]
) -> None:
    with session_scope(sessions) as session:
        clinic = make_clinic(session)
        patient = make_patient(session, clinic, enrolled_on=ENROLLED).patient.id
        session.execute(update(Patient).where(Patient.id == patient).values(recall_due_on=None))

    result = command_line.invoke(main, ["ledger", "verify"])

    assert result.exit_code == 1
    assert (
        f"MISMATCH next recall date patient {patient}: kept none, visits and recalls give "
        "2025-04-07" in result.output
    )
    with session_scope(sessions) as session:
        refresh_recall_due(session, [patient])
    assert command_line.invoke(main, ["ledger", "verify"]).exit_code == 0


@pytest.fixture(params=ENGINES)
def before_the_column(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A database at the revision before the column, holding a patient enrolled in 2024."""
    engine = database_at(request, tmp_path, "0013_read_models", ROWS)
    yield engine
    engine.dispose()


def test_the_migration_fills_the_dates_of_the_patients_already_there(
    before_the_column: Engine,
) -> None:
    upgrade(before_the_column)

    with before_the_column.connect() as connection:
        due = connection.execute(text("SELECT recall_due_on FROM patients")).scalar_one()
    assert str(due) == "2024-02-06"  # enrolled on 2 January, no visit since: 35 days on
