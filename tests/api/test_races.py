"""Requests at once that each create the same missing row all get their answer, none a 5xx.

A row created on first use (a district's account, a settlement's draft, a district's
messaging switch, a no-send day, a recall) is inserted with ``ON CONFLICT DO NOTHING`` and
then read, so the second of two transactions creating it at once finds the first's row
instead of failing on the unique key (on PostgreSQL; SQLite runs one writer at a time).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx2 as httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from actions.context import system_context
from actions.messaging import queue_recalls
from ledger.db import run_in_transaction, session_scope
from ledger.models import Account, Message, NoSendDay, Settlement, SettlementLine
from ledger.services.verify import verify
from notifications.calendar import SendingCalendar
from tests.api.helpers import ClinicSetup, day, new_clinic, new_patient, patient_body

AT_ONCE = 8


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run every call in its own thread, all released together; their results, in order.

    A call that raises gives its exception as its result, so a 5xx (which the strict client
    turns into an AssertionError) is seen by the test, not lost in its thread.
    """
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait(30)
        try:
            results[i] = calls[i]()
        except BaseException as error:
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not any(t.is_alive() for t in threads), "a request did not finish in time"
    return results


def statuses(answers: list[Any]) -> list[int | str]:
    return [a.status_code if isinstance(a, httpx.Response) else repr(a) for a in answers]


def test_eight_first_registrations_at_once_in_a_district_with_no_accounts_all_succeed(
    client: TestClient, city: dict[str, str], key_for: Any, sessions: sessionmaker[Session]
) -> None:
    district = "11260"  # 중랑구: nothing booked there yet in this database
    with session_scope(sessions) as session:
        accounts = select(func.count()).select_from(Account).where(Account.district == district)
        assert session.execute(accounts).scalar_one() == 0
    clinics = [new_clinic(client, city, key_for, district=district) for _ in range(2)]

    answers = at_once(
        [
            lambda c=clinics[i % 2]: client.post(
                "/v1/patients", headers=c.headers, json=patient_body()
            )
            for i in range(AT_ONCE)
        ]
    )

    assert statuses(answers) == [201] * AT_ONCE
    assert all(a.json()["balance"] == 3_000 for a in answers)
    with session_scope(sessions) as session:
        expense = session.execute(
            select(func.count())
            .select_from(Account)
            .where(Account.code == f"district_expense:{district}")
        ).scalar_one()
        assert expense == 1
        assert verify(session) == []


def test_one_quarters_settlement_opened_twice_at_once_is_one_draft(
    client: TestClient, city: dict[str, str], key_for: Any, sessions: sessionmaker[Session]
) -> None:
    district = "11545"
    clinic = new_clinic(client, city, key_for, district=district)
    new_patient(client, clinic)
    centre = key_for("health_center", district=district)
    body = {"district": district, "year": 2024, "quarter": 2}

    answers = at_once(
        [lambda: client.post("/v1/settlements", headers=centre, json=body) for _ in range(4)]
    )

    assert statuses(answers) == [201] * 4
    assert len({a.json()["id"] for a in answers}) == 1
    assert all(a.json()["total"] == answers[0].json()["total"] for a in answers)
    with session_scope(sessions) as session:
        drafts = session.execute(select(Settlement.id).where(Settlement.district == district)).all()
        assert len(drafts) == 1
        lines = session.execute(
            select(func.count()).where(SettlementLine.settlement_id == drafts[0][0])
        ).scalar_one()
        assert lines == 1


def test_a_districts_texts_paused_twice_at_once_are_paused(
    client: TestClient, city: dict[str, str], key_for: Any
) -> None:
    district = "11590"  # no messaging switch stored yet
    centre = key_for("health_center", district=district)

    answers = at_once(
        [
            lambda who=who: client.put(
                f"/v1/districts/{district}/messaging",
                headers=who,
                json={"paused": True, "reason": "carrier outage"},
            )
            for who in (city, centre, city, centre)
        ]
    )

    assert statuses(answers) == [200] * 4
    state = client.get(f"/v1/districts/{district}/messaging", headers=centre).json()
    assert (state["paused"], state["reason"]) == (True, "carrier outage")


def test_one_no_send_day_marked_twice_at_once_is_one_day(
    client: TestClient, city: dict[str, str], key_for: Any, sessions: sessionmaker[Session]
) -> None:
    district = "11620"
    centre = key_for("health_center", district=district)

    answers = at_once(
        [
            lambda: client.put(
                f"/v1/districts/{district}/no-send-days/2024-07-01",
                headers=centre,
                json={"reason": "구민의 날"},
            )
            for _ in range(4)
        ]
    )

    assert statuses(answers) == [200] * 4
    with session_scope(sessions) as session:
        days = session.execute(
            select(func.count()).where(
                NoSendDay.district == district, NoSendDay.day == day("2024-07-01")
            )
        ).scalar_one()
        assert days == 1


def test_two_recall_scans_at_once_queue_each_recall_once(
    app: FastAPI, client: TestClient, city: dict[str, str], key_for: Any, sessions: Any
) -> None:
    clinic: ClinicSetup = new_clinic(client, city, key_for, district="11650")
    patients = [new_patient(client, clinic, enrolled_on="2024-05-20") for _ in range(3)]
    calendar: SendingCalendar = app.state.calendar
    scheduler = system_context("scheduler", calendar)

    answers = at_once(
        [
            lambda: run_in_transaction(
                sessions, lambda s: queue_recalls(s, scheduler, day=day("2024-07-01"))
            )
            for _ in range(2)
        ]
    )

    assert not [a for a in answers if isinstance(a, BaseException)], answers
    with session_scope(sessions) as session:
        for patient in patients:
            recalls = session.execute(
                select(func.count()).where(
                    Message.patient_id == patient["id"], Message.kind == "recall"
                )
            ).scalar_one()
            assert recalls == 1
