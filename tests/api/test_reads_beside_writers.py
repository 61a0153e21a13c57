"""Reads wait for no writer, and long jobs do not stall requests.

A GET reads on a reader session (``BEGIN DEFERRED`` on SQLite: in WAL mode it reads beside the
one writer) and writes its audit row afterwards, in a short write transaction, before it
answers. ``ledger verify`` only reads, on a reader session; the recall scan writes a chunk of
patients per transaction. On SQLite, where one writer at a time holds the database, a slow
writer used to stall every read, and the start-up catch-up held the lock for ~26 s.
"""

from __future__ import annotations

import datetime as dt
import io
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from jobs import tasks
from jobs.tasks import JobContext, recall_overdue, verify_ledger
from ledger.clock import SEOUL
from ledger.db import session_scope
from ledger.models import AuditEvent, Message, Patient
from ledger.settings import Settings
from notifications.channels import ConsoleChannel
from tests.api.helpers import new_clinic, new_patient

PROMPTLY_S = 5.0  # far below the 30 s a request would wait for SQLite's write lock


class Background:
    """A call run in a thread, to see whether it finishes while something is held."""

    def __init__(self, call: Callable[[], Any]) -> None:
        self.result: Any = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self.thread.start()

    def _run(self, call: Callable[[], Any]) -> None:
        try:
            self.result = call()
        except BaseException as error:
            self.error = error

    def finished_within(self, seconds: float) -> bool:
        self.thread.join(seconds)
        return not self.thread.is_alive()

    def value(self) -> Any:
        assert self.finished_within(60), "the call never finished"
        if self.error is not None:
            raise self.error
        return self.result


@contextmanager
def writer_holding_the_lock(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """A write transaction left open: on SQLite it holds the database's one write lock."""
    with sessions() as holder:
        holder.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the lock is taken here
        try:
            yield holder
        finally:
            holder.rollback()


@pytest.mark.engine("sqlite")
def test_a_report_answers_while_a_slow_writer_holds_the_lock(
    client: TestClient, city: dict[str, str], sessions: sessionmaker[Session]
) -> None:
    with writer_holding_the_lock(sessions):
        report = Background(
            lambda: client.get("/v1/reports/districts", headers=city, params={"year": 2024})
        )
        answered_meanwhile = report.finished_within(PROMPTLY_S)
    assert answered_meanwhile, "the report waited for the writer"
    assert report.value().status_code == 200


@pytest.mark.engine("sqlite")
def test_a_patient_is_read_beside_a_writer_and_the_read_is_audited_before_the_answer(
    client: TestClient, city: dict[str, str], key_for: Any, sessions: sessionmaker[Session]
) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)

    with writer_holding_the_lock(sessions) as writer:
        writer.execute(update(Patient).where(Patient.id == patient["id"]).values(sms_consent=False))
        read = Background(lambda: client.get(f"/v1/patients/{patient['id']}", headers=city))
        # The read itself is done; its audit row waits for the lock, and the answer with it.
        assert not read.finished_within(1.0)
        writer.commit()

    answer = read.value()
    assert answer.status_code == 200
    assert answer.json()["sms_consent"] is True  # read before the writer committed
    with session_scope(sessions) as session:
        audited = session.execute(
            select(AuditEvent.action).where(AuditEvent.patient_id == patient["id"])
        ).scalars()
        assert "patient.read" in list(audited)


def test_a_reader_session_refuses_to_write(app: Any) -> None:
    """So a GET can never take the write lock it is meant not to wait for."""
    with app.state.readers() as reader, pytest.raises(DBAPIError, match=r"read-?only"):
        reader.execute(update(Patient).values(sms_consent=True))


@pytest.fixture
def job_context(database_url: str, sessions: sessionmaker[Session]) -> Callable[..., JobContext]:
    def make(moment: dt.datetime, **options: Any) -> JobContext:
        return JobContext(
            sessions,
            ConsoleChannel(out=io.StringIO()),
            Settings(database_url=database_url),
            now=lambda: moment,
            **options,
        )

    return make


def test_ledger_verify_reads_without_stalling_a_visit(
    client: TestClient,
    city: dict[str, str],
    key_for: Any,
    job_context: Callable[..., JobContext],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clinic = new_clinic(client, city, key_for)
    patient = new_patient(client, clinic)
    reading, release = threading.Event(), threading.Event()
    real_verify = tasks.verify

    def long_verify(session: Session) -> Any:
        found = real_verify(session)
        reading.set()  # still in the job's transaction: as if the ledger were large
        assert release.wait(30)
        return found

    monkeypatch.setattr(tasks, "verify", long_verify)
    job = Background(lambda: verify_ledger(job_context(dt.datetime(2024, 6, 14, 3, tzinfo=SEOUL))))
    assert reading.wait(30)
    try:
        visit = Background(
            lambda: client.post(
                f"/v1/patients/{patient['id']}/visits",
                headers=clinic.headers,
                json={"visited_on": "2024-06-14"},
            )
        )
        booked_meanwhile = visit.finished_within(PROMPTLY_S)
    finally:
        release.set()
    assert booked_meanwhile, "the visit waited for ledger verify"
    assert visit.value().status_code == 201
    assert job.value() == 0


def test_the_recall_scan_lets_a_visit_in_between_its_chunks(
    client: TestClient,
    city: dict[str, str],
    key_for: Any,
    sessions: sessionmaker[Session],
    job_context: Callable[..., JobContext],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clinic = new_clinic(client, city, key_for, district="11305")
    overdue = [new_patient(client, clinic, enrolled_on="2024-05-20") for _ in range(5)]
    between, release = threading.Event(), threading.Event()
    calls = 0
    real_scan = tasks.messaging.queue_recalls

    def scan(session: Session, *args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:  # the first chunk is committed; the second has not begun
            between.set()
            assert release.wait(30)
        return real_scan(session, *args, **kwargs)

    monkeypatch.setattr(tasks.messaging, "queue_recalls", scan)
    morning = dt.datetime(2024, 7, 1, 6, tzinfo=SEOUL)  # 35 days after 20 May, and more
    job = Background(lambda: recall_overdue(job_context(morning, recall_chunk=2)))
    assert between.wait(30), "the scan ran in one transaction"
    try:
        visit = Background(
            lambda: client.post(
                f"/v1/patients/{overdue[0]['id']}/visits",
                headers=clinic.headers,
                json={"visited_on": "2024-06-14"},
            )
        )
        booked_meanwhile = visit.finished_within(PROMPTLY_S)
    finally:
        release.set()
    assert booked_meanwhile, "the visit waited for the recall scan"
    assert visit.value().status_code == 201
    assert job.value() is not None and calls >= 3
    with session_scope(sessions) as session:
        recalled = session.execute(
            select(Message.patient_id).where(
                Message.kind == "recall", Message.patient_id.in_([p["id"] for p in overdue])
            )
        ).scalars()
        # the patient who came in meanwhile is no longer overdue (unless scanned before)
        assert {p["id"] for p in overdue[1:]} <= set(recalled)
        runs = session.execute(
            select(AuditEvent.id).where(AuditEvent.action == "recalls.queue")
        ).all()
        assert len(runs) == 1
