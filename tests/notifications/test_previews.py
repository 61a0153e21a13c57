"""A queued text shows what it will say: rendered when queued, rendered again when sent."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from actions.context import system_context
from actions.messaging import queue_recalls
from ledger.clock import SEOUL
from ledger.db import run_in_transaction
from notifications.channels import ConsoleChannel
from notifications.outbox import dispatch, virtual_pacer
from tests.api.helpers import ClinicSetup, patient_body

# 14 June 2024 is a Friday; a follow-up on Thursday the 20th is reminded on Wednesday the 19th.
WEDNESDAY_MORNING = dt.datetime(2024, 6, 19, 10, 0, tzinfo=SEOUL)


def short_named_clinic(client: TestClient, city: dict[str, str], key_for: Any) -> ClinicSetup:
    """A clinic whose name is short enough for the balance to fit in the text."""
    response = client.post(
        "/v1/clinics",
        headers=city,
        json={
            "name": "한빛의원",
            "kind": "chronic",
            "district": "11740",
            "participating_since": "2020-01-01",
        },
    )
    assert response.status_code == 201, response.text
    clinic_id = response.json()["id"]
    return ClinicSetup(clinic_id, "11740", key_for("clinic", clinic_id=clinic_id))


def texts(client: TestClient, clinic: ClinicSetup, patient: dict[str, Any]) -> list[Any]:
    response = client.get(f"/v1/patients/{patient['id']}/messages", headers=clinic.headers)
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


def test_a_queued_reminder_shows_its_text_and_is_sent_with_the_balance_of_that_day(
    app: FastAPI,
    client: TestClient,
    city: dict[str, str],
    key_for: Any,
    sessions: sessionmaker[Session],
) -> None:
    clinic = short_named_clinic(client, city, key_for)
    body = patient_body(name="김민수", enrolled_on="2024-06-03")
    patient = client.post("/v1/patients", headers=clinic.headers, json=body).json()
    visit = client.post(
        f"/v1/patients/{patient['id']}/visits",
        headers=clinic.headers,
        json={"visited_on": "2024-06-14", "next_visit_on": "2024-06-20"},
    )
    assert visit.json()["balance"] == 4_000

    [queued] = texts(client, clinic, patient)

    assert queued["status"] == "queued"
    assert queued["body"] == (
        "김민수님, 한빛의원 진료 예약일은 6월 20일(목)입니다. 건강마일리지 4,000점"
    )

    spent = client.post(
        f"/v1/patients/{patient['id']}/redemptions",
        headers=clinic.headers,
        json={"amount": 3_000, "purpose": "treatment", "spent_on": "2024-06-14"},
    )
    assert spent.json()["balance"] == 1_000
    channel = ConsoleChannel(out=io.StringIO())
    dispatch(
        sessions,
        channel,
        now=WEDNESDAY_MORNING,
        calendar=app.state.calendar,
        rate=2.0,
        pacer=virtual_pacer(WEDNESDAY_MORNING, 2.0),
    )

    [sent] = texts(client, clinic, patient)
    assert sent["status"] == "sent"
    assert (
        sent["body"] == "김민수님, 한빛의원 진료 예약일은 6월 20일(목)입니다. 건강마일리지 1,000점"
    )
    assert [o.body for o, _ in channel.sent if o.message_id == sent["id"]] == [sent["body"]]


def test_a_queued_recall_shows_its_text(
    app: FastAPI,
    client: TestClient,
    city: dict[str, str],
    key_for: Any,
    sessions: sessionmaker[Session],
) -> None:
    clinic = short_named_clinic(client, city, key_for)
    body = patient_body(name="이영희", enrolled_on="2024-06-03")
    patient = client.post("/v1/patients", headers=clinic.headers, json=body).json()
    scheduler = system_context("scheduler", app.state.calendar)

    # Nothing booked after enrolment: overdue 35 days later, on 8 July.
    run_in_transaction(sessions, lambda s: queue_recalls(s, scheduler, day=dt.date(2024, 7, 8)))

    [recall] = texts(client, clinic, patient)
    assert (recall["kind"], recall["status"]) == ("recall", "queued")
    # too long with the balance: it gives way first (notifications.templates)
    assert recall["body"] == "이영희님, 한빛의원에서 혈압·당뇨 정기 진료를 받으실 때입니다."
