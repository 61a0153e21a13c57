"""The outbox: crashes around the channel call, the rate, retries, consent and pauses."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from ledger.clock import SEOUL
from ledger.db import session_scope
from ledger.ids import new_id
from ledger.models import Account, Balance, Message, Patient
from notifications.calendar import SendingCalendar
from notifications.channels import (
    ConsoleChannel,
    Outgoing,
    PermanentFailure,
    Sent,
    TransientFailure,
)
from notifications.outbox import dispatch, queue_reminder, reconcile, virtual_pacer
from notifications.switches import set_paused
from tests.factories import make_clinic, make_patient

CALENDAR = SendingCalendar()
MONDAY = dt.datetime(2026, 10, 12, 9, 0, tzinfo=SEOUL)  # a sending day


class Crash(BaseException):
    """The process dies: nothing after this line runs."""


class CrashingChannel(ConsoleChannel):
    """Sends through the console, but the process dies before or after handing it over."""

    def __init__(self, when: str) -> None:
        super().__init__(out=io.StringIO())
        self.when = when

    def send(self, outgoing: Outgoing) -> Sent:
        if self.when == "before":
            raise Crash
        sent = super().send(outgoing)
        if self.when == "after":
            raise Crash
        return sent


class ScriptedChannel(ConsoleChannel):
    def __init__(self, *failures: Exception) -> None:
        super().__init__(out=io.StringIO())
        self.failures = list(failures)

    def send(self, outgoing: Outgoing) -> Sent:
        if self.failures:
            raise self.failures.pop(0)
        return super().send(outgoing)


def queued(session: Session, *, follow_up: dt.date = dt.date(2026, 10, 13)) -> Message:
    clinic = make_clinic(session)
    patient = make_patient(
        session, clinic, enrolled_on=dt.date(2026, 10, 1), today=dt.date(2026, 10, 12)
    ).patient
    message = queue_reminder(
        session,
        patient=patient,
        clinic_id=clinic.id,
        follow_up=follow_up,
        now=MONDAY - dt.timedelta(hours=3),
        calendar=CALENDAR,
    )
    assert message is not None
    return message


def status(sessions: sessionmaker[Session], message_id: str) -> str:
    with session_scope(sessions) as session:
        found = session.get(Message, message_id)
        assert found is not None
        return found.status


def send(sessions: sessionmaker[Session], channel: Any, now: dt.datetime = MONDAY) -> Any:
    return dispatch(
        sessions, channel, now=now, calendar=CALENDAR, rate=2.0, pacer=virtual_pacer(now, 2.0)
    )


def test_a_crash_after_the_channel_took_the_text_is_reconciled_not_sent_twice(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        message_id = queued(session).id
    crashing = CrashingChannel("after")
    with pytest.raises(Crash):
        send(sessions, crashing)
    assert status(sessions, message_id) == "sending"
    # the process restarts; the channel still has what it took
    settled = reconcile(sessions, crashing, now=MONDAY + dt.timedelta(minutes=5))
    assert settled["sent"] >= 1
    assert status(sessions, message_id) == "sent"
    crashing.when = "never"
    send(sessions, crashing, MONDAY + dt.timedelta(minutes=6))
    assert [o.message_id for o, _ in crashing.sent].count(message_id) == 1


def test_a_crash_before_the_call_sends_the_text_once_after_restart(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        message_id = queued(session).id
    crashing = CrashingChannel("before")
    with pytest.raises(Crash):
        send(sessions, crashing)
    assert status(sessions, message_id) == "sending"
    settled = reconcile(sessions, crashing, now=MONDAY + dt.timedelta(minutes=5))
    assert settled["requeued"] >= 1 and status(sessions, message_id) == "queued"
    crashing.when = "never"
    send(sessions, crashing, MONDAY + dt.timedelta(minutes=6))
    assert status(sessions, message_id) == "sent"
    assert [o.message_id for o, _ in crashing.sent] == [message_id]


def test_an_invalid_number_fails_for_good_and_a_busy_channel_is_retried(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        invalid, busy = queued(session).id, queued(session).id
    channel = ScriptedChannel(
        PermanentFailure("invalid To", 21211), TransientFailure("too many requests", 429)
    )
    send(sessions, channel)
    assert status(sessions, invalid) == "failed" and status(sessions, busy) == "queued"
    send(sessions, channel, MONDAY + dt.timedelta(seconds=30))  # backing off: nothing yet
    assert status(sessions, busy) == "queued"
    send(sessions, channel, MONDAY + dt.timedelta(minutes=2))
    assert status(sessions, busy) == "sent" and status(sessions, invalid) == "failed"


def test_withdrawn_consent_and_a_paused_district_hold_or_stop_texts(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        held = queued(session)
        set_paused(session, held.district, paused=True, reason="수해", by="t", now=MONDAY)
        held_id, district = held.id, held.district
    channel = ConsoleChannel(out=io.StringIO())
    send(sessions, channel)
    assert status(sessions, held_id) == "queued"
    with session_scope(sessions) as session:
        set_paused(session, district, paused=False, reason="", by="t", now=MONDAY)
        patient = session.get(Patient, session.get(Message, held_id).patient_id)  # type: ignore[union-attr]
        assert patient is not None
        patient.sms_consent = False
    send(sessions, channel, MONDAY + dt.timedelta(minutes=1))
    assert status(sessions, held_id) == "cancelled"
    assert channel.sent == []


def _bulk_queue(session: Session, count: int, *, district: str, clinic_id: str) -> None:
    """``count`` consenting patients, each with a recall due now (rows written in bulk)."""
    ids = [new_id("pat") for _ in range(count)]
    accounts = session.execute(
        insert(Account).returning(Account.id, Account.code),
        [
            {
                "code": f"patient:{pid}",
                "type": "patient",
                "normal_side": "credit",
                "district": district,
                "shards": 1,
                "created_at": MONDAY,
            }
            for pid in ids
        ],
    ).all()
    by_code = {code: account for account, code in accounts}
    session.execute(
        insert(Balance), [{"account_id": a, "shard": 0, "balance": 0} for a in by_code.values()]
    )
    session.execute(
        insert(Patient),
        [
            {
                "id": pid,
                "name": f"환자{n}",
                "birth_date": dt.date(1960, 1, 1),
                "phone": f"+8210{20000000 + n}",
                "has_hypertension": True,
                "has_diabetes": False,
                "sms_consent": True,
                "consent_changed_at": MONDAY,
                "consent_wording": "t",
                "consent_recorded_by": "t",
                "clinic_id": clinic_id,
                "district": district,
                "enrolled_on": dt.date(2026, 1, 5),
                "status": "active",
                "account_id": by_code[f"patient:{pid}"],
                "created_at": MONDAY,
            }
            for n, pid in enumerate(ids)
        ],
    )
    session.execute(
        insert(Message),
        [
            {
                "id": new_id("msg"),
                "patient_id": pid,
                "district": district,
                "kind": "recall",
                "due_date": dt.date(2026, 10, 9),
                "sequence": 1,
                "clinic_id": clinic_id,
                "not_before": MONDAY,
                "status": "queued",
                "attempts": 0,
                "created_at": MONDAY,
                "updated_at": MONDAY,
            }
            for pid in ids
        ],
    )


def test_a_hundred_thousand_texts_drain_at_the_rate_and_roll_over_to_the_next_day(
    sessions: sessionmaker[Session],
) -> None:
    total = 100_000
    with session_scope(sessions) as session:
        clinic = make_clinic(session, district="11530")
        _bulk_queue(session, total, district="11530", clinic_id=clinic.id)
    channel = ConsoleChannel(out=io.StringIO())
    now, per_second, per_day = MONDAY, Counter[dt.datetime](), Counter[dt.date]()
    while len(channel.sent) < total and now < MONDAY + dt.timedelta(days=5):
        done = send(sessions, channel, now)
        for _, moment in done.sends:
            per_second[moment.replace(microsecond=0)] += 1
            per_day[moment.date()] += 1
        now += dt.timedelta(minutes=1)
    assert len(channel.sent) == total
    assert max(per_second.values()) <= 2
    # 09:00 to 20:00 at 2 a second is 79,200 a day; the rest goes on Tuesday morning
    assert per_day == {dt.date(2026, 10, 12): 79_200, dt.date(2026, 10, 13): 20_800}
    with session_scope(sessions) as session:
        left = session.execute(
            select(func.count()).where(Message.district == "11530", Message.status != "sent")
        ).scalar_one()
    assert left == 0


def test_a_text_waiting_for_the_sending_window_keeps_its_preview(
    sessions: sessionmaker[Session],
) -> None:
    with session_scope(sessions) as session:
        message = queued(session)
        message_id, preview = message.id, message.body
    assert preview and "10월 13일(화)" in preview

    after_hours = MONDAY.replace(hour=21)
    done = send(sessions, ConsoleChannel(out=io.StringIO()), after_hours)

    assert done.outcomes["waiting"] >= 1
    with session_scope(sessions) as session:
        waiting = session.get(Message, message_id)
        assert waiting is not None
        assert (waiting.status, waiting.body) == ("queued", preview)
        assert waiting.not_before == MONDAY + dt.timedelta(days=1)
