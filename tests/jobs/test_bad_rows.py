"""A job that meets one bad row goes on with the rest.

A follow-up stored on 9999-12-31 (as the API accepted before it bounded dates) made the
city-wide recall scan fail for every patient: working out its grace days in Python left the
calendar. The scan now compares stored dates with bound ones in SQL, so that row is simply
not overdue (its follow-up has not been missed) and nothing about it needs skipping. The row
is put in directly here, as an old database would hold it.
"""

from __future__ import annotations

import datetime as dt
import io
import logging

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from jobs.tasks import JobContext, recall_overdue
from ledger.clock import SEOUL
from ledger.db import session_scope
from ledger.models import Message, Visit
from ledger.programme import Readings
from ledger.services.earning import record_visit
from ledger.settings import Settings
from notifications.channels import ConsoleChannel
from tests.factories import make_clinic, make_patient

MONDAY = dt.date(2026, 10, 12)


def test_the_recall_scan_passes_over_a_patient_with_an_impossible_follow_up_and_recalls_the_rest(
    database_url: str, sessions: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    with session_scope(sessions) as session:
        clinic = make_clinic(session, district="11740")
        before = make_patient(session, clinic, enrolled_on=dt.date(2026, 8, 3)).patient.id
        bad = make_patient(session, clinic, enrolled_on=dt.date(2026, 8, 10)).patient.id
        after = make_patient(session, clinic, enrolled_on=dt.date(2026, 8, 17)).patient.id
        record_visit(
            session,
            patient_id=bad,
            clinic_id=clinic.id,
            visited_on=dt.date(2026, 9, 1),
            readings=Readings(None, None, None, None),
            recorded_by="test",
            next_visit_on=dt.date(2026, 9, 15),
            today=dt.date(2026, 9, 1),
        )
    with session_scope(sessions) as session:
        session.execute(
            update(Visit).where(Visit.patient_id == bad).values(next_visit_on=dt.date(9999, 12, 31))
        )
    moment = dt.datetime.combine(MONDAY, dt.time(6), SEOUL)
    ctx = JobContext(
        sessions,
        ConsoleChannel(out=io.StringIO()),
        Settings(database_url=database_url),
        now=lambda: moment,
    )

    with caplog.at_level(logging.ERROR, logger="notifications.recalls"):
        queued = recall_overdue(ctx, MONDAY)

    with session_scope(sessions) as session:
        recalled = set(
            session.execute(select(Message.patient_id).where(Message.kind == "recall")).scalars()
        )
    assert queued is not None and queued >= 2
    assert {before, after} <= recalled and bad not in recalled
    skipped = [r for r in caplog.records if r.getMessage() == "notifications.recalls.row_skipped"]
    assert skipped == []
