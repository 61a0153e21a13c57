"""Two scheduler processes over one outbox send every text once, on both engines.

Forty recalls are due at 09:00 on a sending Monday. Two OS processes ('spawn') each run
``jobs.tasks.dispatch_texts`` once a virtual minute, in step (a barrier per minute), through
the real Twilio SDK against one fake Twilio server. The rate is set low (six texts a
dispatch) so that the outbox takes several minutes to drain and the two processes claim
from it at the same time, minute after minute.

- With the lease, one process leads and runs every dispatch; the other runs none.
- Without it, both dispatch at once: rows are claimed ``FOR UPDATE SKIP LOCKED`` on
  PostgreSQL, by one ``BEGIN IMMEDIATE`` writer at a time on SQLite. Either way the fake
  must receive each text exactly once, and every message must end ``sent``.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import queue
import traceback
from collections import Counter
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from jobs.lease import Lease
from jobs.tasks import JobContext, dispatch_texts
from ledger.clock import SEOUL
from ledger.db import make_engine, make_session_factory, session_scope
from ledger.models import Message, Patient
from ledger.settings import Settings
from notifications.calendar import SendingCalendar
from notifications.outbox import queue_recall, virtual_pacer
from notifications.twilio import TwilioChannel
from tests.factories import make_clinic, make_patient
from tests.notifications.fake_twilio import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    FROM_NUMBER,
    FakeTwilio,
    fake_twilio_server,  # noqa: F401  (the ``fake_twilio`` fixture)
)

MONDAY = dt.datetime(2026, 10, 12, 9, 0, tzinfo=SEOUL)  # a sending day, the window open
TEXTS = 40
PROCESSES = 2
MINUTES = 10  # virtual minutes each process runs: enough to drain 40 at 6 a dispatch
RATE = 0.1  # texts a second: 6 a one-minute dispatch
TIMEOUT_S = 60


# The worker: top-level so that a spawned process can import it ---------------------------


def run_scheduler(url: str, api_base: str, with_lease: bool, step: Any, results: Any) -> None:
    """Dispatch once a virtual minute, in step with the other process; report what was sent."""
    pid, runs, sent, error = os.getpid(), 0, [], None
    engine = make_engine(url)
    try:
        sessions = make_session_factory(engine)
        channel = TwilioChannel(
            account_sid=ACCOUNT_SID,
            auth_token=AUTH_TOKEN,
            from_number=FROM_NUMBER,
            api_base=api_base,
            timeout=10.0,
        )
        moment = [MONDAY]
        ctx = JobContext(
            sessions,
            channel,
            Settings(database_url=url, send_rate_per_second=RATE),
            now=lambda: moment[0],
            pacer=virtual_pacer,
        )
        lease = Lease(engine, sessions) if with_lease else None
        for minute in range(MINUTES):
            moment[0] = MONDAY + dt.timedelta(minutes=minute)
            step.wait(TIMEOUT_S)
            if lease is None or lease.held(now=moment[0]):
                done = dispatch_texts(ctx)
                runs += 1
                sent.extend(message_id for message_id, _ in done.sends)
        step.wait(TIMEOUT_S)  # both are done before the leader lets go
        if lease is not None:
            lease.release()
        channel.close()
    except BaseException:
        step.abort()  # the other process stops waiting for this one
        error = traceback.format_exc()
    finally:
        engine.dispose()
    results.put((pid, runs, sent, error))


def run_two_schedulers(url: str, fake: FakeTwilio, *, with_lease: bool) -> list[Any]:
    context = multiprocessing.get_context("spawn")
    step = context.Barrier(PROCESSES)
    results = context.Queue()
    processes = [
        context.Process(target=run_scheduler, args=(url, fake.base_url, with_lease, step, results))
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    try:
        reports = [results.get(timeout=TIMEOUT_S) for _ in processes]
    except queue.Empty:
        raise AssertionError("a scheduler process did not report back in time") from None
    finally:
        for process in processes:
            process.join(TIMEOUT_S)
            if process.is_alive():
                process.terminate()
                process.join()
        results.close()
        results.join_thread()
    errors = [error for *_, error in reports if error]
    assert errors == [], "\n".join(errors)
    assert [p.exitcode for p in processes] == [0] * PROCESSES
    assert len({pid for pid, *_ in reports}) == PROCESSES
    return reports


# Setting the scene -----------------------------------------------------------------------


def queue_due_recalls(sessions: sessionmaker[Session], count: int) -> dict[str, str]:
    """``count`` consenting patients with a recall due now; their message id -> phone."""
    base = int.from_bytes(os.urandom(2), "big") % 2500
    calendar = SendingCalendar()
    out: dict[str, str] = {}
    with session_scope(sessions) as session:
        clinic = make_clinic(session, district="11530")
        for n in range(count):
            patient = make_patient(
                session,
                clinic,
                enrolled_on=dt.date(2026, 10, 1),
                today=dt.date(2026, 10, 12),
                phone=f"010-{3000 + base:04d}-{n:04d}",
            ).patient
            message = queue_recall(
                session,
                patient=patient,
                clinic_id=clinic.id,
                due=dt.date(2026, 10, 9),
                sequence=1,
                now=MONDAY - dt.timedelta(hours=3),
                calendar=calendar,
            )
            assert message is not None and message.not_before == MONDAY
            out[message.id] = patient.phone
    return out


def outcome(sessions: sessionmaker[Session], ids: set[str]) -> list[Any]:
    with session_scope(sessions) as session:
        return list(
            session.execute(
                select(
                    Message.id,
                    Message.status,
                    Message.attempts,
                    Message.provider_sid,
                    Patient.phone,
                )
                .join(Patient, Patient.id == Message.patient_id)
                .where(Message.id.in_(ids))
            ).all()
        )


def assert_each_text_went_once(
    sessions: sessionmaker[Session], fake: FakeTwilio, due: dict[str, str]
) -> None:
    phones = set(due.values())
    assert len(phones) == TEXTS
    creates = Counter(r.form["To"] for r in fake.creates)
    assert creates == Counter(dict.fromkeys(phones, 1)), "a text went twice, or not at all"
    assert all(len(fake.sent_to(phone)) == 1 for phone in phones)
    rows = outcome(sessions, set(due))
    assert len(rows) == TEXTS
    assert Counter(row.status for row in rows) == {"sent": TEXTS}
    assert all(row.attempts == 1 for row in rows)
    # each message carries the sid of the one Twilio message to its patient
    sids = {m["to"]: m["sid"] for m in fake.messages}
    assert {row.provider_sid for row in rows} == set(sids.values())
    assert all(row.provider_sid == sids[row.phone] for row in rows)


# Tests ------------------------------------------------------------------------------------


def test_two_schedulers_with_the_lease_one_leads_and_sends_each_text_once(
    database_url: str, sessions: sessionmaker[Session], fake_twilio: FakeTwilio
) -> None:
    due = queue_due_recalls(sessions, TEXTS)

    reports = run_two_schedulers(database_url, fake_twilio, with_lease=True)

    runs = sorted(r for _, r, _, _ in reports)
    assert runs == [0, MINUTES], f"both processes ran the jobs: {runs}"
    leader = next(sent for _, r, sent, _ in reports if r)
    assert sorted(leader) == sorted(due)
    assert_each_text_went_once(sessions, fake_twilio, due)


def test_two_schedulers_dispatching_at_once_send_each_text_once(
    database_url: str, sessions: sessionmaker[Session], fake_twilio: FakeTwilio
) -> None:
    due = queue_due_recalls(sessions, TEXTS)

    reports = run_two_schedulers(database_url, fake_twilio, with_lease=False)

    assert all(r == MINUTES for _, r, _, _ in reports)
    every = [message_id for _, _, sent, _ in reports for message_id in sent]
    assert sorted(every) == sorted(due), "a text was claimed by both processes"
    # both really sent: they drained the outbox together, minute after minute
    assert all(sent for _, _, sent, _ in reports), [len(s) for _, _, s, _ in reports]
    assert_each_text_went_once(sessions, fake_twilio, due)


@pytest.fixture(autouse=True)
def _nothing_left_queued(sessions: sessionmaker[Session]) -> Any:
    """Each test starts with an outbox whose earlier texts are all settled."""
    with session_scope(sessions) as session:
        left = session.execute(
            select(Message.id).where(Message.status.in_(("queued", "sending")))
        ).all()
    assert left == []
    yield
