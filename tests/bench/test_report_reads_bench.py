"""A smoke-sized run of ``bench.report_reads`` on both engines, so that the bench does not rot:
a patient and a visit booked, then each read timed once and its answer printed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session, sessionmaker

from bench.report_reads import main, run
from ledger.db import session_scope
from ledger.programme import Readings
from ledger.services.earning import record_visit
from ledger.services.events import late_entry_window
from tests.factories import make_clinic, make_patient


def book(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as session, late_entry_window(10_000):
        clinic = make_clinic(session)
        patient = make_patient(session, clinic, enrolled_on=dt.date(2024, 4, 2))
        record_visit(
            session,
            patient_id=patient.patient.id,
            clinic_id=clinic.id,
            visited_on=dt.date(2024, 4, 9),
            readings=Readings(systolic=128, diastolic=82),
            recorded_by="bench test",
            today=dt.date(2024, 4, 9),
        )


def test_the_bench_times_each_read_and_says_what_it_answered(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    book(sessions)
    timings = run(database_url, year=None, quarter=2, runs=2, district="11740")
    assert [t.name for t in timings] == ["district report 2024", "settlement draft 11740 2024-Q2"]
    assert all(len(t.seconds) == 2 and min(t.seconds) > 0 for t in timings)
    assert (
        timings[0].answer.startswith("15 rows, accrued ") and "accrued 0 M" not in timings[0].answer
    )
    assert timings[1].answer.startswith("1 lines, payout ")


@pytest.mark.engine("sqlite")
def test_the_bench_runs_from_the_command_line(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    main([database_url, "--year", "2024", "--quarter", "2", "--runs", "1"])
    out = capsys.readouterr().out
    assert "district report 2024" in out and "median" in out and "1 runs" in out
