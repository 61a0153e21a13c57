"""`mileage demo`: a year of one district played day by day through the actions."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from actions.demo import DEMO_DAYS, fill_demo
from ledger import clock
from ledger.db import session_scope
from ledger.models import AuditEvent, Message, Patient, Visit
from ledger.services.verify import verify
from notifications.calendar import SendingCalendar
from notifications.recalls import district_message_report


def test_a_demo_year_books_texts_and_audits_as_live_entry_would(
    sessions: sessionmaker[Session],
) -> None:
    days: list[int] = []
    result = fill_demo(sessions, calendar=SendingCalendar(), patients=30, progress=days.append)
    assert len(days) == DEMO_DAYS
    assert (result.clinics, result.patients) == (10, 30)
    assert result.texts_sent > 0 and result.visits > 30
    today = clock.today()
    with session_scope(sessions) as session:
        assert verify(session) == []
        statuses = dict(
            session.execute(
                select(Message.kind + ":" + Message.status, func.count()).group_by(
                    Message.kind, Message.status
                )
            ).all()
        )
        assert statuses.get("reminder:sent", 0) > 0 and statuses.get("recall:sent", 0) > 0
        assert "reminder:suppressed" not in statuses  # the year was lived, not back-filled
        ahead = session.execute(
            select(func.count(func.distinct(Visit.patient_id)))
            .join(Patient, Patient.id == Visit.patient_id)
            .where(Visit.next_visit_on > today, Patient.sms_consent.is_(True))
        ).scalar_one()
        assert statuses.get("reminder:queued", 0) == result.reminders_queued > 0
        assert result.reminders_queued <= ahead
        sent = session.execute(
            select(func.count()).where(Message.sent_at.is_not(None))
        ).scalar_one()
        assert sent == result.texts_sent
        report = district_message_report(
            session,
            district="11740",
            start=today - dt.timedelta(days=DEMO_DAYS),
            end=today,
            today=today,
        )
        assert 0 < report.came_back <= report.recalled
        by_demo = session.execute(
            select(func.count()).where(
                AuditEvent.label == "mileage demo", AuditEvent.action == "visit.create"
            )
        ).scalar_one()
        assert by_demo == result.visits
